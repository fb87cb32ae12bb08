"""Petitions keep their address key and contact phone digest (governance.derived), for the policy
finder's "has an open petition" to match residents in SQL; existing rows are filled in here.

SQLite adds a NOT NULL column by copying the table under a new name, which its triggers naming
`appeals_petition` (migration 0023) do not survive: they are dropped first and made again after.
"""

import importlib

from django.conf import settings
from django.db import migrations, models

import governance.derived

BATCH = 5000
TRIGGERS = importlib.import_module("appeals.migrations.0023_listperf_assignment_created")


def sqlite_triggers_off(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in TRIGGERS.SQLITE_DROP:
            schema_editor.execute(statement)


def sqlite_triggers_on(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in TRIGGERS.SQLITE_SQL:
            schema_editor.execute(statement)


def fill(apps, schema_editor):
    from governance.crypto import phone_blind_index
    from residents.models import normalize_address

    connection = schema_editor.connection
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT id, address, contact_phone FROM appeals_petition"
                " WHERE id > %s AND (address <> '' OR contact_phone <> '') ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            values = [
                (normalize_address(address or "")[:200], phone_blind_index(phone or ""), pk)
                for pk, address, phone in rows
            ]
            cursor.executemany(
                "UPDATE appeals_petition SET address_key = %s, contact_phone_hash = %s WHERE id = %s", values
            )
            last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0025_finder_open_contacts"),
        ("governance", "0007_user_session"),
        ("grids", "0003_chinese_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(sqlite_triggers_off, sqlite_triggers_on),
        migrations.RemoveIndex(
            model_name="petition",
            name="appeals_pet_open_contacts",
        ),
        migrations.AddField(
            model_name="petition",
            name="address_key",
            field=governance.derived.DerivedCharField(
                blank=True,
                compute="residents.models.normalize_address",
                db_default="",
                default="",
                max_length=200,
                source="address",
            ),
        ),
        migrations.AddField(
            model_name="petition",
            name="contact_phone_hash",
            field=governance.derived.DerivedCharField(
                blank=True,
                compute="governance.crypto.phone_blind_index",
                db_default="",
                default="",
                keyed=True,
                max_length=32,
                source="contact_phone",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(sqlite_triggers_on, sqlite_triggers_off),
        migrations.AddIndex(
            model_name="petition",
            index=models.Index(
                condition=models.Q(
                    (
                        "status__in",
                        ["accepted", "assigned", "dispatched", "intake", "processing", "returned", "submitted"],
                    )
                ),
                fields=["area_path"],
                include=("address_key", "contact_phone_hash", "street", "community", "grid", "microgrid"),
                name="appeals_pet_open_contacts",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
    ]
