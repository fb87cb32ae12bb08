"""`overdue` meant "escalated on deadline at least once"; it says so now, and "overdue" is derived."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0004_sweep_failures"),
    ]

    operations = [
        migrations.RenameField(model_name="petition", old_name="overdue", new_name="escalated_on_deadline"),
        migrations.AlterField(
            model_name="petition",
            name="escalated_on_deadline",
            field=models.BooleanField(default=False, verbose_name="escalated on deadline"),
        ),
    ]
