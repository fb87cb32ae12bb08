"""The Celery app. Periodic schedules live here, in one place."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The resident import keeps its tasks beside its services (residents/imports/tasks.py).
app.autodiscover_tasks(["residents.imports"])

# Every periodic job, with when and why. Jobs are sweeps over rows (the durable state); a missed
# beat only delays work, never loses it.
app.conf.beat_schedule = {
    # Every minute: proves the worker and beat are alive (the health page reads its timestamp).
    "governance.heartbeat": {"task": "governance.heartbeat", "schedule": 60.0},
    # Every minute: escalate overdue petitions one tier up and send 80%-of-time reminders.
    "appeals.sweep_deadlines": {"task": "appeals.sweep_deadlines", "schedule": 60.0},
    # Every minute: route petitions whose routing task the broker dropped (status "submitted").
    "appeals.sweep_unrouted": {"task": "appeals.sweep_unrouted", "schedule": 60.0},
    # Every minute: send due notifications, including retries the broker never delivered.
    "appeals.send_notifications": {"task": "appeals.send_notifications", "schedule": 60.0},
    # Every minute: send again hotline import jobs the broker dropped (or whose worker died).
    "appeals.hotline_import_sweep": {"task": "appeals.hotline_import_sweep", "schedule": 60.0},
    # Every minute: send again resident import runs the broker dropped (or whose worker died).
    "residents.import_sweep": {"task": "residents.import_sweep", "schedule": 60.0},
    # Hourly: close resolved petitions left unrated past the rating window.
    "appeals.close_unrated": {"task": "appeals.close_unrated", "schedule": 3600.0},
    # Daily: blank the personal data of residents moved away longer than the retention (PIPL art. 47).
    "residents.purge_moved_away": {"task": "residents.purge_moved_away", "schedule": 86400.0},
    # Daily: residents turn 60 or 80; the derived tags follow.
    "residents.refresh_derived_tags": {"task": "residents.refresh_derived_tags", "schedule": 86400.0},
    # On the 1st at 02:00 Beijing time (CELERY_TIMEZONE is Asia/Shanghai): publish last month's report of the
    # district and every street, after the month's last events are in and before the office opens.
    "analytics.publish_monthly": {
        "task": "analytics.publish_monthly",
        "schedule": crontab(minute=0, hour=2, day_of_month=1),
    },
    # Every minute: send again report generations the broker dropped (state "queued").
    "analytics.sweep_report_requests": {"task": "analytics.sweep_report_requests", "schedule": 60.0},
}
