"""The Celery app. Periodic schedules live here, in one place."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job, with when and why. Jobs are sweeps over rows (the durable state); a missed
# beat only delays work, never loses it.
app.conf.beat_schedule = {
    # Every minute: proves the worker and beat are alive (the health page reads its timestamp).
    "governance.heartbeat": {"task": "governance.heartbeat", "schedule": 60.0},
}
