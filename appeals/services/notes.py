"""Internal notes (内部备注): staff write them on the petition page; residents never see them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from appeals import policy
from appeals.models import EventType, PetitionNote
from appeals.services import _base
from governance.errors import DomainError, Forbidden

NOTE_MAX_CHARS = 2000


def petition_note_add(*, petition_id: int, actor: Any, text: str) -> PetitionNote:
    """Write an internal note and its `note_added` event in one transaction.

    The event keeps the petition's status and carries no text (the note's id only), so no
    timeline a resident can reach could show it even if its filter were wrong.
    """
    text = (text or "").strip()
    if not text:
        message = _("Please write the note.")
        raise DomainError(message, code="validation_error", extra={"fields": {"text": message}})
    if len(text) > NOTE_MAX_CHARS:
        message = _("A note can be at most %(n)s characters.") % {"n": NOTE_MAX_CHARS}
        raise DomainError(message, code="validation_error", extra={"fields": {"text": message}})
    with transaction.atomic():
        petition = _base.lock(petition_id)
        decision = policy.note_decide(actor, petition)
        if not decision:
            raise Forbidden(decision.reason)
        now = _base.now()
        note = PetitionNote.objects.create(petition=petition, author=actor, text=text, created_at=now)
        _base.record(
            petition,
            EventType.NOTE_ADDED,
            actor=actor,
            from_status=petition.status,
            from_tier=petition.tier,
            extra={"note_id": note.pk},
            at=now,
        )
    return note
