"""Import jobs: upload → mapping → dry run (check) → import, each step a row change; Celery nudges.

`import_job_create` stores the upload and proposes a mapping; `import_job_map` saves the mapping
(remembered for the community) and queues the dry run; `import_job_start` queues the import of a
file whose dry run found no problem. Both runs are the task `residents.import_run`, which claims
the row (`import_job_run`); `import_jobs_sweep` (beat, every minute) re-sends what the broker
dropped and frees runs whose worker died. The check writes nothing but its report; the import
re-checks the file against the records as they are then and writes all rows in one transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.errors import DomainError, Forbidden
from governance.models import Role
from governance.scoping import scope_for
from grids.models import Area, AreaLevel
from residents.imports import mapping as m
from residents.imports.copyin import insert
from residents.imports.reading import read_header
from residents.models.imports import ImportJob, ImportKind, ImportMapping, ImportRow, ImportStatus, RowAction
from residents.policy import may_edit_in

logger = logging.getLogger(__name__)

TASK = "residents.import_run"
# Roles that keep a whole community's records (records' EDIT_ROLES at community level); grid
# workers edit only their grid, streets and the district oversee and do not write records.
IMPORT_ROLES = (Role.COMMUNITY_WORKER, Role.COMMUNITY_SECRETARY)
# A queued run the broker has not delivered within this long is sent again.
QUEUED_GRACE = timedelta(minutes=1)
# A run whose worker died (its transaction rolled back, nothing stored) is run again.
RUNNING_STALE = timedelta(minutes=30)
PROGRESS_KEY = "resident-import-progress:{}"
# pg_advisory_xact_lock(ADVISORY_LOCK, kind): imports of one kind run one at a time.
ADVISORY_LOCK = 7_701_008


# --- Who may import where ---------------------------------------------------------------------------


def may_import(user: Any) -> bool:
    scope = scope_for(user)
    return scope.sees_all or scope.has_role(*IMPORT_ROLES)


def import_communities(user: Any) -> QuerySet[Area]:
    """The communities the user may import into: where records' policy lets them write records."""
    if not may_import(user):
        return Area.objects.none()
    communities = scope_for(user).filter(Area.objects.filter(level=AreaLevel.COMMUNITY), path_field="path")
    if scope_for(user).sees_all:
        return communities.order_by("path")
    allowed = [area.pk for area in communities if may_edit_in(user, area)]
    return Area.objects.filter(pk__in=allowed).order_by("path")


def import_jobs_visible_to(user: Any) -> QuerySet[ImportJob]:
    """The imports of the communities the user may import into (the import log they read)."""
    if not may_import(user):
        return ImportJob.objects.none()
    if scope_for(user).sees_all:
        return ImportJob.objects.all()
    return ImportJob.objects.filter(community__in=import_communities(user))


def import_job_get_for_user(user: Any, job_id: int) -> ImportJob:
    """The job if the user may import into its community; otherwise (or missing) NotFound → 404."""
    from governance.errors import NotFound

    job = import_jobs_visible_to(user).select_related("community", "created_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("No such import."))
    return job


def _check_may_import(actor: Any, community: Area) -> None:
    if community.level != AreaLevel.COMMUNITY:
        raise DomainError(_("Choose a community."), code="bad_community")
    if not may_import(actor) or not may_edit_in(actor, community):
        raise Forbidden(_("You may import only into the communities of your own area."))


# --- Upload and mapping -----------------------------------------------------------------------------


def remembered_mapping(community: Area, kind: str) -> dict[str, str]:
    row = ImportMapping.objects.filter(community=community, kind=kind).first()
    return dict(row.mapping) if row else {}


def import_job_create(*, actor: Any, kind: str, community: Area, file_name: str, content: bytes) -> ImportJob:
    """Store the upload (nothing is imported yet) with a proposed mapping from its header."""
    if kind not in ImportKind.values:
        raise DomainError(_("Choose what the file holds: residents, houses or buildings."), code="bad_kind")
    _check_may_import(actor, community)
    table = read_header(content, file_name=file_name, header_hint=_all_synonyms(kind))
    suggestion = m.suggest_mapping(kind, table.header, remembered_mapping(community, kind))
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            community=community,
            area_path=community.path,
            file_name=(file_name or "upload")[:255],
            file_format=table.file_format,
            content=content,
            header=[h for h in table.header],
            mapping=suggestion,
            created_by=actor,
        )
    logger.info("resident import %s: %s uploaded %s (%s) into %s", job.pk, actor, job.file_name, kind, community.code)
    return job


def _all_synonyms(kind: str) -> list[str]:
    return [synonym for spec in m.field_specs(kind) for synonym in spec.synonyms]


def import_job_map(*, actor: Any, job: ImportJob, mapping: Mapping[str, str]) -> ImportJob:
    """Save the job's mapping, remember it for the community, and queue the dry run."""
    _check_may_import(actor, job.community)
    mapping = {name: column for name, column in mapping.items() if column}
    problems = m.mapping_problems(job.kind, job.header, mapping)
    if problems:
        raise DomainError(" ".join(problems), code="bad_mapping", extra={"problems": problems})
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status not in (ImportStatus.MAPPING, ImportStatus.CHECKED, ImportStatus.FAILED):
            raise DomainError(_("This file is being checked, imported or already imported."), code="busy")
        ImportMapping.objects.update_or_create(
            community=job.community, kind=job.kind, defaults={"mapping": mapping, "updated_by": actor}
        )
        _queue(locked, ImportStatus.CHECKING, mapping=mapping)
    return locked


def import_job_start(*, actor: Any, job: ImportJob) -> ImportJob:
    """Queue the import of a checked file; refused while its dry run shows any problem."""
    _check_may_import(actor, job.community)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportStatus.CHECKED:
            raise DomainError(_("Only a checked file can be imported; check it first."), code="not_checked")
        if locked.summary.get("problem_rows"):
            raise DomainError(
                _("The dry run found problems in %(n)d row(s); correct the file and upload it again.")
                % {"n": locked.summary["problem_rows"]},
                code="rows_failed",
            )
        locked.imported_by = actor
        _queue(locked, ImportStatus.IMPORTING, extra_fields=["imported_by"])
    return locked


def _queue(job: ImportJob, status: str, *, mapping: Mapping[str, str] | None = None, extra_fields=()) -> None:
    job.status = status
    job.queued_at = timezone.now()
    job.started_at = job.finished_at = None
    job.phase, job.rows_done, job.error_code, job.error_message = "", 0, "", ""
    fields = ["status", "queued_at", "started_at", "finished_at", "phase", "rows_done", "error_code", "error_message"]
    if mapping is not None:
        job.mapping = dict(mapping)
        fields.append("mapping")
    job.save(update_fields=fields + list(extra_fields))
    cache.delete(PROGRESS_KEY.format(job.pk))
    transaction.on_commit(partial(_publish, job.pk))


# Until when (time.monotonic()) publishing is skipped after a broker failure, in this process.
_broker_down_until = 0.0


def _publish(job_id: int) -> None:
    """Send the task by name; a broker outage only logs, the sweeper sends it later."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return
    from governance.celery import app

    try:
        app.signature(TASK, args=(job_id,)).apply_async()
    except Exception:
        _broker_down_until = time.monotonic() + settings.BROKER_RETRY_AFTER
        logger.warning("Could not enqueue %s(%s); the sweeper will send it.", TASK, job_id, exc_info=True)


# --- Progress ---------------------------------------------------------------------------------------


def progress_reporter(job_id: int, *, in_transaction: bool):
    """A callback (phase, done, total) that makes progress visible to the polling page.

    Outside a transaction the job row itself is updated (it commits at once); inside the import's
    transaction the row cannot show anything until the end, so the cache carries it (and while the
    cache is down the page simply shows the phase without a count).
    """

    def report(phase: str, done: int, total: int) -> None:
        if in_transaction:
            cache.set(PROGRESS_KEY.format(job_id), {"phase": phase, "rows_done": done, "rows_total": total}, 3600)
        else:
            ImportJob.objects.filter(pk=job_id).update(phase=phase, rows_done=done, rows_total=total)

    return report


def import_job_progress(job: ImportJob) -> dict[str, Any]:
    """The running job's phase, row counts and percentage; from the cache while it writes."""
    state = {"phase": job.phase, "rows_done": job.rows_done, "rows_total": job.rows_total}
    if job.is_running:
        live = cache.get(PROGRESS_KEY.format(job.pk))
        if live:
            state = live
    total = state.get("rows_total") or 0
    state["percent"] = min(100, round(100 * state.get("rows_done", 0) / total)) if total else 0
    return state


# --- Running -----------------------------------------------------------------------------------------


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run the queued check or import of the job; None when another worker has it or it is over."""
    from residents.imports.engine import ImportRefused, check_file, write_plans

    now = timezone.now()
    running = ImportJob.objects.filter(pk=job_id, status__in=[ImportStatus.CHECKING, ImportStatus.IMPORTING])
    claimable = running.filter(started_at__isnull=True) | running.filter(started_at__lt=now - RUNNING_STALE)
    if not claimable.update(started_at=now, phase="reading"):
        return None
    job = ImportJob.objects.select_related("community", "created_by", "imported_by").get(pk=job_id)
    importing = job.status == ImportStatus.IMPORTING
    try:
        result = check_file(job, progress=progress_reporter(job.pk, in_transaction=False))
        if importing and not result.problem_rows:
            with transaction.atomic():
                _serialize_imports(job)
                write_plans(
                    job,
                    result,
                    actor=job.imported_by or job.created_by,
                    progress=progress_reporter(job.pk, in_transaction=True),
                )
    except DomainError as error:
        return _finish(job, failed=True, error_code=error.code, error_message=error.message)
    except ImportRefused as refused:
        return _finish(job, failed=True, error_code="import_refused", error_message=str(refused), result=None)
    except Exception as error:  # the import rolled back; the job must still end, with a reason
        logger.exception("Resident import job %s failed", job_id)
        return _finish(job, failed=True, error_code="import_failed", error_message=str(error)[:2000])
    if importing and result.problem_rows:
        return _finish(
            job,
            failed=True,
            result=result,
            error_code="rows_failed",
            error_message=_(
                "%(n)d row(s) have problems now (the records changed since the dry run); nothing was imported."
            )
            % {"n": result.problem_rows},
        )
    return _finish(job, failed=False, result=result)


def _serialize_imports(job: ImportJob) -> None:
    """One import at a time per kind: two files creating the same resident cannot both pass."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK, ImportKind.values.index(job.kind)])


def _finish(
    job: ImportJob, *, failed: bool, result: Any = None, error_code: str = "", error_message: str = ""
) -> ImportJob:
    importing = job.status == ImportStatus.IMPORTING
    now = timezone.now()
    with transaction.atomic():
        if result is not None:
            ImportRow.objects.filter(job=job).delete()
            insert(result.report_rows(job))
            job.summary = result.summary()
            job.rows_total = job.rows_done = result.rows
        job.finished_at = now
        job.phase = ""
        job.error_code, job.error_message = error_code, error_message
        fields = ["summary", "rows_total", "rows_done", "finished_at", "phase", "error_code", "error_message", "status"]
        if failed:
            job.status = ImportStatus.FAILED
        elif importing:
            job.status, job.imported_at = ImportStatus.DONE, now
            job.content = b""  # imported: the upload is no longer needed
            fields += ["imported_at", "content"]
        else:
            job.status, job.checked_at = ImportStatus.CHECKED, now
            fields.append("checked_at")
        job.save(update_fields=fields)
    cache.delete(PROGRESS_KEY.format(job.pk))
    logger.info(
        "resident import %s (%s, %s) %s by %s: %s %s",
        job.pk,
        job.kind,
        job.file_name,
        "import" if importing else "check",
        job.imported_by if importing else job.created_by,
        job.status,
        job.summary,
    )
    return job


def import_jobs_sweep() -> int:
    """Send again the runs the broker dropped or whose worker died; returns how many."""
    now = timezone.now()
    pending = ImportJob.objects.filter(status__in=[ImportStatus.CHECKING, ImportStatus.IMPORTING])
    stale = pending.filter(started_at__isnull=True, queued_at__lt=now - QUEUED_GRACE) | pending.filter(
        started_at__lt=now - RUNNING_STALE
    )
    ids = list(stale.values_list("pk", flat=True)[:100])
    for job_id in ids:
        _publish(job_id)
    return len(ids)


__all__ = ["RowAction", "import_job_create", "import_job_map", "import_job_run", "import_job_start"]
