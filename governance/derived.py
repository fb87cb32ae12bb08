"""Columns computed from another column of the same row, whenever the row is written.

`DerivedCharField(source="address", compute="residents.models.normalize_address")` keeps the
result of `compute(row.source)` in a column of its own, so SQL can match by it: a petition's
address key and its contact phone's blind index are what the policy finder's "has an open petition"
joins residents by, inside the count's one statement. The value is computed in `pre_save`, which
`Model.save`, `bulk_create` and the intake's one-statement insert all ask of every field; it is
never typed (not editable). `keyed=True` marks a value that depends on PERSONAL_DATA_HASH_KEY:
`manage.py personal_data_rekey --reindex` recomputes those.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils.module_loading import import_string


class DerivedCharField(models.CharField):
    description = "Text computed from another column of the row"

    def __init__(self, *args: Any, source: str, compute: str, keyed: bool = False, **kwargs: Any):
        self.source = source
        self.compute = compute
        self.keyed = keyed
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        # Also the database's own default: a row inserted by plain SQL (a bulk INSERT … SELECT, a
        # COPY) that does not name the column gets "" rather than an error; fill it afterwards.
        kwargs.setdefault("db_default", "")
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        kwargs.update(source=self.source, compute=self.compute)
        if self.keyed:
            kwargs["keyed"] = True
        return name, path, args, kwargs

    @property
    def function(self) -> Callable[[str], str]:
        found = self.__dict__.get("_function")
        if found is None:
            found = self.__dict__["_function"] = import_string(self.compute)
        return found

    def derive(self, value: Any) -> str:
        return self.function(value or "")[: self.max_length]

    def pre_save(self, model_instance: Any, add: bool) -> str:
        value = self.derive(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def derived_fields(model: Any, *, keyed: bool | None = None) -> list[DerivedCharField]:
    """The model's derived columns (only the keyed ones, or only the others, when `keyed` says)."""
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, DerivedCharField) and (keyed is None or field.keyed == keyed)
    ]
