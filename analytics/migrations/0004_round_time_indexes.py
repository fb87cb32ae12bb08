"""Indexes the report's times statement reads: rounds that responded / were resolved in a month.

`appeals_handlinground` belongs to appeals, but only the monthly report (analytics.selectors.times)
asks these questions, so the indexes live with it. Partial: most rows of an open round are null.
"""

from django.db import migrations

INDEXES = {
    "analytics_round_responded": "responded_at",
    "analytics_round_resolved": "resolved_at",
}


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_monthly_reports"),
        ("appeals", "0014_event_legal_move_constraint"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON appeals_handlinground ({column}) WHERE {column} IS NOT NULL",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, column in INDEXES.items()
    ]
