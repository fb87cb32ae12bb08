"""Tracking by number + phone cannot be brute-forced: per-number locks whatever the address,
per-client limits, one answer for every failure, X-Forwarded-For only through trusted proxies."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from appeals.services.tracking import TrackingUnavailable, petition_track_lookup
from governance.errors import NotFound

TRACK = reverse("appeals:track")
PHONE = "13800138000"
REFUSED = "未找到与该受理编号和手机号码相符的诉求"
# Wrong middles of the masked 138****8000, as an attacker would try them.
WRONG_PHONES = [f"138{middle:04d}8000" for middle in range(1, 40)]
DOWN = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


def post_track(tracking_no: str, phone: str, *, ip: str = "10.0.0.1", client: Client | None = None, **headers):
    client = client or Client(REMOTE_ADDR=ip)
    return client.post(TRACK, {"tracking_no": tracking_no, "contact_phone": phone}, REMOTE_ADDR=ip, **headers)


def refused_message(response) -> str:
    assert response.status_code == 400, response.status_code
    return response.context["form"].non_field_errors()[0]


def test_the_right_phone_opens_the_tracking_page(submit):
    petition = submit()
    response = post_track(petition.tracking_no, PHONE)
    assert response.status_code == 302
    assert response["Location"] == reverse("appeals:track_status", args=[petition.tracking_no])


def test_five_wrong_phones_lock_the_number_even_for_the_right_phone_and_another_address(submit, settings):
    settings.TRACKING_LOCK_AFTER = 5
    petition = submit()
    answers = {refused_message(post_track(petition.tracking_no, phone, ip="10.0.0.1")) for phone in WRONG_PHONES[:5]}

    after_lock_same_ip = post_track(petition.tracking_no, PHONE, ip="10.0.0.1")
    after_lock_other_ip = post_track(petition.tracking_no, PHONE, ip="172.16.5.9")

    assert len(answers) == 1 and REFUSED in answers.pop()
    assert REFUSED in refused_message(after_lock_same_ip)
    assert REFUSED in refused_message(after_lock_other_ip)
    # The lock is per number: another petition with the same phone still opens.
    other = submit()
    assert post_track(other.tracking_no, PHONE, ip="172.16.5.9").status_code == 302


def test_a_distributed_guess_from_many_addresses_is_locked_after_the_same_few_tries(submit, settings):
    settings.TRACKING_LOCK_AFTER = 5
    petition = submit()
    for n, phone in enumerate(WRONG_PHONES[:5]):
        post_track(petition.tracking_no, phone, ip=f"10.1.{n}.1")
    assert post_track(petition.tracking_no, PHONE, ip="10.9.9.9").status_code == 400


def test_the_daily_lock_holds_when_the_short_lock_allows_more(submit, settings):
    settings.TRACKING_LOCK_AFTER = 100
    settings.TRACKING_DAILY_LOCK_AFTER = 3
    petition = submit()
    for phone in WRONG_PHONES[:3]:
        post_track(petition.tracking_no, phone)
    assert post_track(petition.tracking_no, PHONE, ip="10.2.2.2").status_code == 400


def test_wrong_number_wrong_phone_and_locked_number_answer_alike(submit, settings):
    settings.TRACKING_LOCK_AFTER = 2
    petition, locked = submit(), submit()
    for phone in WRONG_PHONES[:2]:
        post_track(locked.tracking_no, phone, ip="10.3.0.1")

    wrong_phone = post_track(petition.tracking_no, WRONG_PHONES[0], ip="10.3.0.2")
    wrong_number = post_track("000000000000", PHONE, ip="10.3.0.3")
    locked_right_phone = post_track(locked.tracking_no, PHONE, ip="10.3.0.4")

    messages = {refused_message(r) for r in (wrong_phone, wrong_number, locked_right_phone)}
    assert len(messages) == 1
    bodies = {
        r.content.decode().replace(number, "N").replace(phone, "P")
        for r, number, phone in (
            (wrong_phone, petition.tracking_no, WRONG_PHONES[0]),
            (wrong_number, "000000000000", PHONE),
            (locked_right_phone, locked.tracking_no, PHONE),
        )
    }
    # Beyond the echoed input they differ only in the CSRF token: strip it and they are one page.
    assert len({_without_csrf(body) for body in bodies}) == 1


def _without_csrf(body: str) -> str:
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def test_successful_look_ups_use_up_no_tries(submit, settings):
    settings.TRACKING_LOCK_AFTER = 3
    settings.RATE_TRACKING_FAILURES = "3/h"
    petition = submit()
    for _ in range(6):
        assert post_track(petition.tracking_no, PHONE).status_code == 302


def test_a_client_with_too_many_failures_gets_429_in_chinese(submit, settings):
    settings.RATE_TRACKING_FAILURES = "3/h"
    petitions = [submit() for _ in range(4)]
    for petition in petitions[:3]:
        post_track(petition.tracking_no, WRONG_PHONES[0], ip="10.4.0.1")

    response = post_track(petitions[3].tracking_no, PHONE, ip="10.4.0.1")

    assert response.status_code == 429
    assert "操作过于频繁" in response.content.decode()
    assert response["Retry-After"] == "3600"
    # Another client is not affected.
    assert post_track(petitions[3].tracking_no, PHONE, ip="10.4.0.2").status_code == 302


def test_a_forged_x_forwarded_for_is_ignored_without_trusted_proxies(submit, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.RATE_TRACKING_FAILURES = "2/h"
    petition = submit()
    for n in range(2):
        post_track(petition.tracking_no, WRONG_PHONES[n], HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    response = post_track(petition.tracking_no, PHONE, HTTP_X_FORWARDED_FOR="198.51.100.77")

    assert response.status_code == 429


def test_x_forwarded_for_names_the_client_behind_one_trusted_proxy(submit, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_TRACKING_FAILURES = "2/h"
    petition = submit()
    for n in range(2):
        post_track(petition.tracking_no, WRONG_PHONES[n], HTTP_X_FORWARDED_FOR="203.0.113.5")
    # The proxy appends the real client; anything further left was written by the client.
    blocked = post_track(petition.tracking_no, PHONE, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")
    other_client = post_track(petition.tracking_no, PHONE, HTTP_X_FORWARDED_FOR="203.0.113.6")

    assert blocked.status_code == 429
    assert other_client.status_code == 302


# --- The public tracking API shares the limits ------------------------------------------------------


def test_the_api_locks_the_number_like_the_form(submit, settings):
    settings.TRACKING_LOCK_AFTER = 3
    petition = submit()
    api = APIClient(REMOTE_ADDR="10.5.0.1")
    wrong = [
        api.get("/api/v1/track/", {"tracking_no": petition.tracking_no, "phone": p}, REMOTE_ADDR=f"10.5.0.{n}")
        for n, p in enumerate(WRONG_PHONES[:3])
    ]
    locked = api.get("/api/v1/track/", {"tracking_no": petition.tracking_no, "phone": PHONE}, REMOTE_ADDR="10.6.0.1")
    # The form shares the counter: it is locked there too.
    form = post_track(petition.tracking_no, PHONE, ip="10.7.0.1")

    assert [r.status_code for r in wrong] == [404, 404, 404]
    assert locked.status_code == 404
    assert locked.json() == wrong[0].json()
    assert locked.json()["code"] == "tracking_not_found" and REFUSED in locked.json()["message"]
    assert form.status_code == 400


def test_the_api_rate_and_reopen_are_limited_by_the_same_lock(submit, settings):
    settings.TRACKING_LOCK_AFTER = 2
    petition = submit()
    api = APIClient()
    for phone in WRONG_PHONES[:2]:
        api.post("/api/v1/track/rate/", {"tracking_no": petition.tracking_no, "phone": phone, "rating": "satisfied"})
    response = api.post(
        "/api/v1/track/reopen/", {"tracking_no": petition.tracking_no, "phone": PHONE, "reason": "没修好"}
    )
    assert response.status_code == 404


def test_the_api_throttles_requests_per_client_with_a_chinese_429(submit, settings):
    settings.RATE_TRACKING = "2/min"
    petition = submit()
    api = APIClient()
    params = {"tracking_no": petition.tracking_no, "phone": PHONE}
    statuses = [api.get("/api/v1/track/", params).status_code for _ in range(3)]
    response = api.get("/api/v1/track/", params)

    assert statuses == [200, 200, 429]
    assert response.json()["code"] == "rate_limited"
    assert "操作过于频繁" in response.json()["message"]
    assert response["Retry-After"] == "60"


# --- Redis down: the look-up fails closed, never with a 500 -----------------------------------------


@pytest.mark.redis
def test_with_the_cache_down_the_look_up_refuses_with_503_not_500(submit, settings):
    petition = submit()
    settings.CACHES = DOWN
    with pytest.raises(TrackingUnavailable):
        petition_track_lookup(tracking_no=petition.tracking_no, contact_phone=PHONE, client="10.0.0.1")

    response = APIClient().get("/api/v1/track/", {"tracking_no": petition.tracking_no, "phone": PHONE})

    assert response.status_code == 503
    assert response.json()["code"] == "tracking_unavailable"
    assert "短信中的链接" in response.json()["message"]


def test_the_service_refuses_an_empty_phone_or_number(submit):
    petition = submit()
    with pytest.raises(NotFound):
        petition_track_lookup(tracking_no=petition.tracking_no, contact_phone="", client="10.0.0.1")
    with pytest.raises(NotFound):
        petition_track_lookup(tracking_no="", contact_phone=PHONE, client="10.0.0.1")


# --- Parallel guessing: every attempt is counted ------------------------------------------------------


@pytest.mark.redis
def test_parallel_attempts_are_all_counted(transactional_db, settings):
    """16 threads at once, as in the reported attack: no attempt is lost from the count (atomic INCR),
    so no more than TRACKING_LOCK_AFTER guesses are ever checked in a window."""
    import threading

    from django.core.cache import cache
    from django.db import connection

    from governance.limits import limit_key

    settings.RATE_TRACKING_FAILURES = "1000/h"
    number, per_thread, threads = "261202999999", 5, 16
    barrier = threading.Barrier(threads)

    def guess(n: int) -> None:
        barrier.wait()
        try:
            for k in range(per_thread):
                with pytest.raises(NotFound):
                    petition_track_lookup(tracking_no=number, contact_phone=WRONG_PHONES[k], client=f"10.8.0.{n}")
        finally:
            connection.close()

    workers = [threading.Thread(target=guess, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert cache.get(limit_key("track-no", number)) == threads * per_thread
    assert cache.get(limit_key("track-no-day", number)) == threads * per_thread
