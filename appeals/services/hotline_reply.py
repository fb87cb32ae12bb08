"""12345 reply-back (回单): the reply owed to the hotline for each resolved hotline work order.

`hotline_reply_owe` runs inside the transaction that records a petition's `resolved` event
(`appeals.services._base.record` calls it), so a resolution and its reply row commit together or
not at all: nothing is missed, and nothing is owed for a rolled-back resolution. It is idempotent:
one row per (petition, handling round); calling it again for the same round returns that row.
Petitions merged into the resolved one that came from the hotline owe a reply too (result
`merged`, the master's reply). `hotline_replies_backfill` writes the rows of resolutions recorded
before this existed (or by the demo's bulk history), also idempotently.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connections, router, transaction

from appeals.models import Channel, EventType, HotlineReply, HotlineReplyResult, Petition, Status


def _txid(using: str) -> int:
    """The id of the writing transaction (PostgreSQL), 0 elsewhere (SQLite writes one at a time)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return cursor.fetchone()[0]


def _unit(petition: Petition) -> tuple[str, str]:
    department = petition.handler_department
    if department is not None:
        return department.name, department.code
    area = petition.handler_area
    if area is not None:
        return area.name, area.code
    return "", ""


def _owe_one(petition: Petition, *, result: str, reply: str, at: datetime, txid: int) -> HotlineReply:
    unit_name, unit_code = _unit(petition)
    row, _created = HotlineReply.objects.get_or_create(
        petition=petition,
        round=max(1, petition.round_count),
        defaults={
            "order_no": petition.external_ref,
            "tracking_no": petition.tracking_no,
            "result": result,
            "reply": reply,
            "unit_name": unit_name[:100],
            "unit_code": unit_code[:32],
            "resolved_at": at,
            "area_path": petition.area_path,
            "txid": txid,
        },
    )
    return row


def hotline_reply_owe(petition: Petition, *, at: datetime) -> list[HotlineReply]:
    """Write the replies owed for `petition`'s resolution at `at` (itself and merged hotline orders)."""
    using = router.db_for_write(HotlineReply)
    merged = list(
        Petition.objects.filter(merged_into=petition, channel=Channel.HOTLINE, status=Status.MERGED)
        .exclude(external_ref="")
        .select_related("handler_area", "handler_department")
    )
    owes_itself = petition.channel == Channel.HOTLINE and petition.external_ref
    if not owes_itself and not merged:
        return []
    with transaction.atomic(using=using):
        txid = _txid(using)
        rows = []
        if owes_itself:
            rows.append(_owe_one(petition, result=HotlineReplyResult.RESOLVED, reply=petition.reply, at=at, txid=txid))
        for child in merged:
            # The merged order is answered with the master's reply, in the master's unit.
            child.handler_area, child.handler_department = petition.handler_area, petition.handler_department
            rows.append(_owe_one(child, result=HotlineReplyResult.MERGED, reply=petition.reply, at=at, txid=txid))
        return rows


def hotline_replies_backfill(*, actor: Any = None) -> int:
    """Rows for resolved hotline petitions that have none for their current round; how many written."""
    written = 0
    candidates = (
        Petition.objects.filter(
            channel=Channel.HOTLINE, status__in=[Status.RESOLVED, Status.CLOSED], resolved_at__isnull=False
        )
        .exclude(external_ref="")
        .select_related("handler_area", "handler_department")
        .order_by("resolved_at", "pk")
    )
    for petition in candidates.iterator(chunk_size=500):
        if HotlineReply.objects.filter(petition=petition, round=max(1, petition.round_count)).exists():
            continue
        resolved = petition.events.filter(type=EventType.RESOLVED).order_by("-created_at").first()
        with transaction.atomic():
            hotline_reply_owe(petition, at=resolved.created_at if resolved else petition.resolved_at)
        written += 1
    return written
