"""Hotline imports as background jobs: the upload is a row, a worker imports it all-or-nothing.

`hotline_job_create` stores the upload and nudges the worker after commit; `hotline_job_run` claims
the row and runs `appeals.hotline.hotline_import(all_or_nothing=True)`; `hotline_jobs_enqueue_stale`
(beat, every minute) re-sends jobs the broker dropped and frees jobs whose worker died.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import HotlineImportJob, ImportJobStatus
from appeals.services import _base
from governance.errors import DomainError

logger = logging.getLogger(__name__)

# A queued job the broker has not delivered within this long is sent again.
QUEUED_GRACE = timedelta(minutes=1)
# A running job whose worker died (its transaction rolled back, nothing stored) is run again.
RUNNING_STALE = timedelta(hours=1)
PROGRESS_KEY = "hotline-job-progress:{}"


def hotline_job_create(*, file_name: str, content: bytes, file_format: str | None, actor: Any) -> HotlineImportJob:
    with transaction.atomic():
        job = HotlineImportJob.objects.create(
            file_name=file_name[:255],
            file_format=file_format or "",
            content=content,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        _base.enqueue("appeals.hotline_import_run", job.pk)
    return job


def _progress(job_id: int):
    def report(phase: str, done: int, total: int) -> None:
        # The rows are written in one transaction: the job row cannot show progress meanwhile, the
        # cache can (and if it is down, the job simply shows no progress until it ends).
        cache.set(PROGRESS_KEY.format(job_id), {"phase": phase, "rows_done": done, "rows_total": total}, 3600)

    return report


def hotline_job_progress(job: HotlineImportJob) -> dict[str, Any]:
    """The job's phase and row counts: from the cache while it runs, from the row otherwise."""
    if job.status == ImportJobStatus.RUNNING:
        live = cache.get(PROGRESS_KEY.format(job.pk))
        if live:
            return live
    return {"phase": job.phase, "rows_done": job.rows_done, "rows_total": job.rows_total}


def hotline_job_run(*, job_id: int) -> HotlineImportJob | None:
    """Import the job's file; returns None when another worker has it or it is finished."""
    from appeals.hotline import hotline_import

    now = timezone.now()
    claimable = HotlineImportJob.objects.filter(pk=job_id).filter(
        status=ImportJobStatus.QUEUED
    ) | HotlineImportJob.objects.filter(pk=job_id, status=ImportJobStatus.RUNNING, started_at__lt=now - RUNNING_STALE)
    if not claimable.update(status=ImportJobStatus.RUNNING, started_at=now, phase="checking"):
        return None
    job = HotlineImportJob.objects.select_related("created_by").get(pk=job_id)
    fields = ["status", "finished_at", "phase", "rows_total", "rows_done", "report", "content"]
    try:
        report = hotline_import(
            file=bytes(job.content),
            fmt=job.file_format or None,
            actor=job.created_by,
            all_or_nothing=True,
            progress=_progress(job.pk),
        )
    except DomainError as error:
        job.status, job.error_code, job.error_message = ImportJobStatus.FAILED, error.code, error.message
        job.report = {"message": error.message, "code": error.code, "extra": error.extra}
        fields += ["error_code", "error_message"]
    except Exception as error:  # the import rolled back; the job must still end, with a reason
        logger.exception("Hotline import job %s failed", job_id)
        job.status, job.error_code, job.error_message = ImportJobStatus.FAILED, "import_failed", str(error)[:2000]
        fields += ["error_code", "error_message"]
    else:
        job.status = ImportJobStatus.DONE if report.committed else ImportJobStatus.FAILED
        job.report = report.as_dict()
        job.rows_total = job.rows_done = len(report.rows)
        if not report.committed:
            job.error_code = "rows_failed"
            job.error_message = _(
                "%(n)d row(s) failed; nothing was stored. Correct them and upload the file again."
            ) % {"n": report.failed}
            fields += ["error_code", "error_message"]
    job.finished_at = timezone.now()
    job.phase = ""
    job.content = b""
    job.save(update_fields=fields)
    cache.delete(PROGRESS_KEY.format(job.pk))
    return job


def hotline_jobs_enqueue_stale() -> int:
    """Send again the jobs the broker dropped or whose worker died; returns how many."""
    now = timezone.now()
    stale = HotlineImportJob.objects.filter(
        status=ImportJobStatus.QUEUED, created_at__lt=now - QUEUED_GRACE
    ) | HotlineImportJob.objects.filter(status=ImportJobStatus.RUNNING, started_at__lt=now - RUNNING_STALE)
    ids = list(stale.values_list("pk", flat=True)[:100])
    for job_id in ids:
        _base.enqueue("appeals.hotline_import_run", job_id)
    return len(ids)
