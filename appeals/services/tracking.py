"""The anonymous way to a petition: tracking number + phone, limited so it cannot be brute-forced.

A masked phone (`139******68`) still leaves candidates to guess, so every look-up is counted:
failures per tracking number (whatever the address: `TRACKING_LOCK_AFTER` within
`TRACKING_LOCK_MINUTES` lock it for that long, `TRACKING_DAILY_LOCK_AFTER` within a day for the
day) and per client address (`RATE_TRACKING_FAILURES`, answered 429). A wrong number, a wrong phone
and a locked number get the same answer after the same database work, so the answer never says
which part was wrong or whether the number is locked. Attempts are counted before the look-up
(atomic `INCR`), so parallel requests cannot slip past the limit, and given back on success.

Fail-closed: when the counters cannot be reached (Redis down) the look-up is refused with 503
(`TrackingUnavailable`) — without counters nothing stops the brute force. The SMS link and the
session that remembers a followed petition do not depend on the counters and keep working.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status

from appeals.models import Petition
from governance.env import parse_rates
from governance.errors import DomainError, NotFound, RateLimited
from governance.identity import normalize_phone
from governance.limits import LimiterUnavailable, limit_decr, limit_extend, limit_incr, limit_key

DAY = 86400
# Bounds the work done for hostile input: longer "tracking numbers" are not ours anyway.
MAX_TRACKING_NO = 32


class TrackingUnavailable(DomainError):
    code = "tracking_unavailable"
    http_status = status.HTTP_503_SERVICE_UNAVAILABLE


def tracking_refusal() -> NotFound:
    """The one answer for a wrong number, a wrong phone and a locked number."""
    return NotFound(
        _(
            "No petition matches this tracking number and phone number. After several wrong tries a "
            "tracking number is locked for a while; the link in your text message always works."
        ),
        code="tracking_not_found",
    )


def _lock_windows() -> list[tuple[str, int, int]]:
    """(scope, failures allowed, seconds) for each lock on one tracking number."""
    return [
        ("track-no", settings.TRACKING_LOCK_AFTER, settings.TRACKING_LOCK_MINUTES * 60),
        ("track-no-day", settings.TRACKING_DAILY_LOCK_AFTER, DAY),
    ]


def _match(tracking_no: str, phone: str) -> Petition | None:
    petition = Petition.objects.select_related("category__parent").filter(tracking_no=tracking_no).first()
    # Compared in constant time, and against a dummy when the number is unknown, so the work is alike.
    expected = petition.contact_phone if petition is not None else "-"
    same = hmac.compare_digest(expected.encode(), (phone or "+").encode())
    return petition if petition is not None and same else None


def petition_track_lookup(*, tracking_no: str, contact_phone: str, client: str) -> Petition:
    """The petition whose tracking number and phone both match, counted against the limits.

    Raises NotFound (the same for every failure), RateLimited when this client failed too often,
    TrackingUnavailable when the counters cannot be reached."""
    number = (tracking_no or "").strip()[:MAX_TRACKING_NO].upper()
    phone = normalize_phone(contact_phone or "")
    (client_count, client_seconds), *_rest = parse_rates(settings.RATE_TRACKING_FAILURES)
    client_key = limit_key("track-ip", client)
    try:
        if limit_incr(client_key, seconds=client_seconds) > client_count:
            raise RateLimited(retry_after=client_seconds)
        locked = False
        taken = []
        for scope, allowed, seconds in _lock_windows():
            key = limit_key(scope, number)
            used = limit_incr(key, seconds=seconds)
            taken.append(key)
            if used > allowed:
                locked = True
            elif used == allowed:
                # This attempt uses the last try: if it fails the lock lasts its full time from now.
                limit_extend(key, seconds=seconds)
    except LimiterUnavailable:
        raise TrackingUnavailable(
            _(
                "Looking up by tracking number is unavailable right now. Please try again later or open the link in your text message."
            )
        ) from None
    # The query runs even when locked: a locked number answers like a wrong one, in about the same time.
    petition = _match(number, phone) if number and phone else None
    if petition is None or locked:
        raise tracking_refusal()
    for key in (client_key, *taken):
        limit_decr(key)
    return petition
