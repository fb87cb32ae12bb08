"""The client address comes from X-Forwarded-For only through the configured trusted proxies."""

from __future__ import annotations

from django.conf import settings as django_settings
from rest_framework.settings import api_settings

from governance.clientip import client_ip


def request(rf, xff: str | None = None, remote: str = "10.0.0.1"):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return rf.get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request(rf, "203.0.113.7")) == "10.0.0.1"
    assert client_ip(request(rf, "203.0.113.7, 198.51.100.1")) == "10.0.0.1"


def test_behind_one_proxy_the_right_most_entry_is_the_client(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request(rf, "203.0.113.7")) == "203.0.113.7"
    # The client wrote the left part itself: it is not believed.
    assert client_ip(request(rf, "1.1.1.1, 203.0.113.7")) == "203.0.113.7"


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request(rf, "1.1.1.1, 203.0.113.7, 10.0.0.2")) == "203.0.113.7"


def test_a_short_or_malformed_header_falls_back_to_the_peer(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request(rf, "203.0.113.7")) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request(rf, "not-an-ip")) == "10.0.0.1"
    assert client_ip(request(rf, "")) == "10.0.0.1"
    assert client_ip(request(rf, "2001:db8::1")) == "2001:db8::1"


def test_drf_and_axes_read_the_same_setting():
    assert api_settings.NUM_PROXIES == django_settings.TRUSTED_PROXY_COUNT
    assert django_settings.AXES_CLIENT_IP_CALLABLE == "governance.clientip.client_ip"
