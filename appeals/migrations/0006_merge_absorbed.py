"""The master of a merge records an "absorbed" event (it recorded "merged", as the duplicate does)."""

from django.db import migrations, models


def absorbed_events(apps, schema_editor):
    PetitionEvent = apps.get_model("appeals", "PetitionEvent")
    PetitionEvent.objects.filter(type="merged", extra__has_key="absorbed").update(type="absorbed")


def merged_events(apps, schema_editor):
    PetitionEvent = apps.get_model("appeals", "PetitionEvent")
    PetitionEvent.objects.filter(type="absorbed").update(type="merged")


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0005_overdue_meaning'),
    ]

    operations = [
        migrations.AlterField(
            model_name='petitionevent',
            name='type',
            field=models.CharField(choices=[('submitted', 'Submitted'), ('routed', 'Routed'), ('placed', 'Placed'), ('accepted', 'Accepted'), ('handling', 'Handling started'), ('progress', 'Progress noted'), ('replied', 'Replied'), ('resolved', 'Resolved'), ('rated', 'Rated'), ('closed', 'Closed'), ('reopened', 'Reopened'), ('escalated', 'Escalated'), ('auto_escalated', 'Escalated on deadline'), ('reminded', 'Deadline reminder'), ('whistled', 'Dispatched to departments (吹哨)'), ('reported_in', 'Department reported in (报到)'), ('department_replied', 'Department replied'), ('returned', 'Returned'), ('rerouted', 'Re-routed'), ('extension_asked', 'Extension asked'), ('extension_granted', 'Extension granted'), ('extension_refused', 'Extension refused'), ('urged', 'Urged (催办)'), ('supervised', 'Supervised (督办)'), ('merged', 'Merged into another'), ('absorbed', 'Absorbed a duplicate'), ('repeat_linked', 'Linked as a repeat'), ('callback', 'Call-back recorded')], max_length=24),
        ),
        migrations.RunPython(absorbed_events, merged_events),
    ]
