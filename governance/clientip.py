"""The client's IP address, by one rule for every limiter, DRF throttle and django-axes.

`X-Forwarded-For` is only as trustworthy as the proxies that append to it. With
`TRUSTED_PROXY_COUNT=0` (the default) the header is ignored and `REMOTE_ADDR` is the client: anyone
can send the header, so believing it would let an attacker pick a new "IP" for every request. With
N trusted proxies in front (nginx, a load balancer), each appends the address it received from, so
the client is the N-th address from the right; anything further left was written by the client.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: Any) -> str:
    """The address of whoever sent the request, per `TRUSTED_PROXY_COUNT`; "" when the request
    carries none (a test's fake request), which limiters count as one client."""
    meta = request.META
    remote = _valid(meta.get("REMOTE_ADDR") or "") or ""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [hop for hop in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if hop.strip()]
    if len(hops) < count:
        # Fewer hops than trusted proxies: the request did not come through all of them.
        return remote
    return _valid(hops[-count]) or remote
