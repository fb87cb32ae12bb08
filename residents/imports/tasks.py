"""Thin Celery tasks of the import: an id in, one service call. Registered through governance/celery.py."""

from celery import shared_task

from residents.imports import jobs


@shared_task(name="residents.import_run", ignore_result=True)
def import_run(job_id: int) -> None:
    jobs.import_job_run(job_id=job_id)


@shared_task(name="residents.import_sweep", ignore_result=True)
def import_sweep() -> int:
    return jobs.import_jobs_sweep()
