"""Thin Celery tasks for reports: ids in, one service call, idempotent (docs/analytics.md)."""

from celery import shared_task
from django.utils import timezone

from analytics.services import reports


@shared_task(name="analytics.generate_report", ignore_result=True, acks_late=True)
def generate_report(report_id: int) -> None:
    reports.report_run(report_id=report_id)


@shared_task(name="analytics.sweep_report_requests", ignore_result=True)
def sweep_report_requests() -> int:
    return reports.reports_enqueue_stale()


@shared_task(name="analytics.publish_report", ignore_result=True, acks_late=True)
def publish_report(area_id: int, year: int, month: int) -> None:
    reports.report_publish_scheduled(area_id=area_id, year=year, month=month)


@shared_task(name="analytics.publish_monthly", ignore_result=True)
def publish_monthly() -> int:
    """Last month's report of the district and of every street, one task each."""
    year, month = reports.previous_month_of(timezone.now())
    areas = reports.scheduled_areas()
    for area in areas:
        publish_report.delay(area.pk, year, month)
    return len(areas)
