from celery import shared_task
from django.utils import timezone

from governance.models import Heartbeat


@shared_task(name="governance.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Record that beat scheduled and a worker ran a task (the health endpoint shows it)."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name="worker", defaults={"at": now})
    return now.isoformat()
