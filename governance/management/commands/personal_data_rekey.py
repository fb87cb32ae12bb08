"""Re-encrypt every encrypted value with the newest key of PERSONAL_DATA_KEYS (docs/personal-data.md).

Rotation: put the new key first in PERSONAL_DATA_KEYS (keep the old ones after it), restart, run
this command, then drop the old keys. `--reindex` also recomputes the blind indexes (after a new
PERSONAL_DATA_HASH_KEY): those of encrypted values and the keyed derived columns of plain ones (a
petition's contact phone digest, governance.derived). Works in batches of primary keys, one
transaction each; running it again finds nothing left to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from governance.crypto import EncryptedTextField, blind_index, decrypt, is_current, rotate
from governance.derived import derived_fields

BATCH = 2000


def encrypted_models() -> list[tuple[Any, list[Any]]]:
    """Every concrete model with EncryptedTextField columns, and those fields."""
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields and not model._meta.proxy:
            found.append((model, fields))
    return found


def rewrite_in_batches(
    model: Any, read: list[str], write: list[str], rewrite: Callable[[tuple], list | None], *, batch: int = BATCH
) -> tuple[int, int]:
    """(rows read, rows rewritten): every row of `model` in batches of primary keys, one transaction
    each (the rows locked where the database can), its `read` columns given to `rewrite`, which
    answers the new values of the `write` columns or None to leave the row as it is."""
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    select = ", ".join(quote(column) for column in read)
    assign = ", ".join(f"{quote(column)} = %s" for column in write)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    last, seen, written = None, 0, 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            where = f"WHERE {pk} > %s " if last is not None else ""
            cursor.execute(
                f"SELECT {pk}, {select} FROM {table} {where}ORDER BY {pk} LIMIT %s{lock}",
                [*([last] if last is not None else []), batch],
            )
            rows = cursor.fetchall()
            if not rows:
                return seen, written
            updates = []
            for row in rows:
                values = rewrite(row[1:])
                if values is not None:
                    updates.append([*values, row[0]])
            if updates:
                cursor.executemany(f"UPDATE {table} SET {assign} WHERE {pk} = %s", updates)
            seen += len(rows)
            written += len(updates)
            last = rows[-1][0]


def rekey_model(model: Any, fields: list[Any], *, reindex: bool = False, batch: int = BATCH) -> tuple[int, int]:
    """(rows read, rows rewritten) of one model."""
    indexes = getattr(model, "BLIND_INDEXES", {}) if reindex else {}
    columns = [f.column for f in fields]
    targets = [*columns, *(model._meta.get_field(indexes[f.name][0]).column for f in fields if f.name in indexes)]

    def rewrite(tokens: tuple) -> list | None:
        values = [token if is_current(token or "") else rotate(token or "") for token in tokens]
        hashes = [
            blind_index(indexes[f.name][1], decrypt(token or ""))
            for f, token in zip(fields, values, strict=True)
            if f.name in indexes
        ]
        return [*values, *hashes] if values != list(tokens) or hashes else None

    return rewrite_in_batches(model, columns, targets, rewrite, batch=batch)


def reindex_derived(model: Any, fields: list[Any], *, batch: int = BATCH) -> tuple[int, int]:
    """(rows read, rows rewritten): the keyed derived columns of one model computed afresh."""
    sources = [model._meta.get_field(field.source).column for field in fields]
    columns = [field.column for field in fields]

    def rewrite(row: tuple) -> list | None:
        fresh = [field.derive(value) for field, value in zip(fields, row[: len(fields)], strict=True)]
        return fresh if fresh != list(row[len(fields) :]) else None

    return rewrite_in_batches(model, [*sources, *columns], columns, rewrite, batch=batch)


class Command(BaseCommand):
    help = "Re-encrypt personal data with the newest key of PERSONAL_DATA_KEYS (and, with --reindex, rebuild blind indexes)."

    def add_arguments(self, parser):
        parser.add_argument("--reindex", action="store_true", help="also recompute the blind indexes")
        parser.add_argument("--batch", type=int, default=BATCH, help="rows per transaction")

    def handle(self, *args, reindex: bool = False, batch: int = BATCH, **options):
        for model, fields in encrypted_models():
            read, written = rekey_model(model, fields, reindex=reindex, batch=batch)
            self.stdout.write(f"{model._meta.label}: {read} rows read, {written} rewritten")
        if reindex:
            for model in apps.get_models():
                fields = derived_fields(model, keyed=True)
                if fields and not model._meta.proxy:
                    read, written = reindex_derived(model, fields, batch=batch)
                    self.stdout.write(f"{model._meta.label} (derived): {read} rows read, {written} rewritten")
