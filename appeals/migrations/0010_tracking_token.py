"""Petition.access_token: the secret of the resident's tracking link, backfilled for existing rows."""

import secrets

from django.db import migrations, models

import appeals.models

BATCH = 1000


def backfill(apps, schema_editor):
    Petition = apps.get_model("appeals", "Petition")
    while True:
        ids = list(Petition.objects.filter(access_token__isnull=True).values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        rows = [Petition(pk=pk, access_token=secrets.token_urlsafe(32)) for pk in ids]
        Petition.objects.bulk_update(rows, ["access_token"])


class Migration(migrations.Migration):
    dependencies = [("appeals", "0009_petition_attention_index")]

    operations = [
        migrations.AddField(
            model_name="petition",
            name="access_token",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="petition",
            name="access_token",
            field=models.CharField(
                default=appeals.models.new_access_token, editable=False, max_length=64, unique=True
            ),
        ),
    ]
