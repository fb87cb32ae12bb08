"""Model instances built as Django's unpickling builds them: without `Model.__init__`.

`Model.__init__` walks every field of the model to set or defer it (a petition has 51), which
costs most of building a row for a list page or a policy question. An instance built here holds
only the named fields; every other field is deferred as `.only()` would leave it (reading one loads
it). It sends no `pre_init`/`post_init` signal: `fast_loadable` says whether a model may be built
so (no receiver, no `from_db` of its own); tests/appeals/test_request_cost.py checks the models
the lists build.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=Model)


def instance_loader(model: type[M], names: tuple[str, ...], *, db: str | None = None) -> Callable[[Iterable[Any]], M]:
    """A function from values in the order of `names` (field attnames) to an instance of `model`."""

    def load(values: Iterable[Any]) -> M:
        instance = model.__new__(model)
        state = ModelState()
        state.adding = False
        state.db = db
        instance.__dict__.update(zip(names, values, strict=True), _state=state)
        return instance

    return load


def fast_loadable(model: type[Model]) -> bool:
    """Whether `instance_loader` builds what `model.from_db` would: no init signal, no own `from_db`."""
    return (
        model.from_db.__func__ is Model.from_db.__func__  # type: ignore[attr-defined]
        and not pre_init.has_listeners(model)
        and not post_init.has_listeners(model)
    )
