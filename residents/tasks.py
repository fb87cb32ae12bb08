"""Thin Celery tasks of the records: the daily retention purge and the derived-tag refresh."""

from celery import shared_task

from residents.services import derived_tags_refresh, residents_purge_expired

# Rows purged per task run at most; more are left for the next day's run.
PURGE_MAX_BATCHES = 200


@shared_task(name="residents.purge_moved_away", ignore_result=True)
def purge_moved_away() -> int:
    """Blank the personal data of residents moved away longer than the retention (idempotent)."""
    total = 0
    for _batch in range(PURGE_MAX_BATCHES):
        purged = residents_purge_expired()
        total += purged
        if not purged:
            break
    return total


@shared_task(name="residents.refresh_derived_tags", ignore_result=True)
def refresh_derived_tags() -> int:
    """Elderly 60+/80+ and living alone follow birthdays and moves."""
    return derived_tags_refresh()
