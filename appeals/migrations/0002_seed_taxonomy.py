"""Load the petition taxonomy and default time limits (appeals/taxonomy.py) on every install.

The resident form needs the categories from the first request, so they come with the schema.
Default departments stay empty here (a fresh database has none); categories_link_departments()
sets them once departments exist.
"""

from django.db import migrations


def load(apps, schema_editor):
    from appeals.taxonomy import categories_load

    categories_load(apps.get_model("appeals", "Category"), apps.get_model("appeals", "TimeLimit"))


def unload(apps, schema_editor):
    from appeals.taxonomy import TAXONOMY

    Category = apps.get_model("appeals", "Category")
    TimeLimit = apps.get_model("appeals", "TimeLimit")
    codes = [cls.code for cls in TAXONOMY] + [sub.code for cls in TAXONOMY for sub in cls.subs]
    TimeLimit.objects.filter(category__isnull=True).delete()
    TimeLimit.objects.filter(category__code__in=codes).delete()
    Category.objects.filter(code__in=codes, parent__isnull=False).delete()
    Category.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load, unload),
    ]
