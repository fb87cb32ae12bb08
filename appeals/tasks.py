"""Thin Celery tasks: ids in, one service call, idempotent. Durable state lives in rows."""

from celery import shared_task

from appeals.services import hotline_jobs, intake, notifications, sweeps


@shared_task(name="appeals.route_petition", ignore_result=True, acks_late=True)
def route_petition(petition_id: int) -> None:
    intake.petition_route(petition_id=petition_id)


@shared_task(name="appeals.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> dict[str, int]:
    return {
        "escalated": sweeps.petitions_escalate_overdue(),
        "reminded": sweeps.petitions_send_reminders(),
    }


@shared_task(name="appeals.sweep_unrouted", ignore_result=True)
def sweep_unrouted() -> int:
    return sweeps.petitions_route_unrouted()


@shared_task(name="appeals.close_unrated", ignore_result=True)
def close_unrated() -> int:
    return sweeps.petitions_close_unrated()


@shared_task(name="appeals.send_notifications", ignore_result=True, acks_late=True)
def send_notifications() -> dict[str, int]:
    return notifications.notifications_send_due()


@shared_task(name="appeals.hotline_import_run", ignore_result=True)
def hotline_import_run(job_id: int) -> None:
    hotline_jobs.hotline_job_run(job_id=job_id)


@shared_task(name="appeals.hotline_import_sweep", ignore_result=True)
def hotline_import_sweep() -> int:
    return hotline_jobs.hotline_jobs_enqueue_stale()
