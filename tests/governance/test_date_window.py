"""Client-supplied dates outside the accepted window are a clear 400, never a 500 or a stored row."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from governance.inputs import date_window_error, filter_date_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(district_centre):
    client = Client()
    client.force_login(district_centre)
    return client


def aware(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


def test_stored_dates_lie_between_2000_and_the_end_of_tomorrow(settings):
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert date_window_error(aware(2000, 1, 1)) == ""
    assert date_window_error(aware(tomorrow.year, tomorrow.month, tomorrow.day, 23, 59)) == ""
    assert "2000-01-01" in date_window_error(aware(1999, 12, 31, 23, 59))
    assert date_window_error(timezone.now() + timedelta(days=2))
    settings.EARLIEST_DATE = date(2020, 1, 1)
    assert "2020-01-01" in date_window_error(aware(2019, 6, 1))


def test_query_bounds_may_reach_ahead_but_not_past_2100():
    assert filter_date_error(aware(2030, 1, 1)) == ""
    assert filter_date_error(aware(2100, 6, 1))
    assert filter_date_error(aware(1970, 1, 1))


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00", "1999-12-31T00:00:00", "9999-12-31T23:59:59", "2200-01-01"])
def test_the_api_refuses_filter_dates_outside_the_window(staff_client, value):
    for name in ("created_after", "created_before"):
        response = staff_client.get("/api/v1/petitions/", {name: value})
        assert response.status_code == 400, (name, value, response.content[:200])
        assert response.json()["code"] == "validation_error"
        assert name in response.json()["extra"]["fields"]


def test_the_api_accepts_filter_dates_inside_the_window(staff_client):
    response = staff_client.get("/api/v1/petitions/", {"created_after": "2026-01-01T00:00:00+08:00"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["0001-01-01", "0001-01-01T00:00:00Z", "9999-12-31", "1999-12-31T23:59:59+08:00"])
def test_open311_refuses_dates_outside_the_window(client, tree, value):
    response = client.get("/open311/v2/requests.json", {"start_date": value})

    assert response.status_code == 400, response.content[:200]
    assert response.json()[0]["description"].startswith("start_date")


def test_open311_accepts_dates_inside_the_window(client, tree):
    assert client.get("/open311/v2/requests.json", {"start_date": "2026-01-01"}).status_code == 200


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00", "9999-12-31T23:59:00"])
def test_an_extension_deadline_outside_the_window_is_a_field_error(value):
    from appeals.forms import AskExtensionForm
    from appeals.serializers import AskExtensionSerializer

    serializer = AskExtensionSerializer(data={"new_deadline": value, "reason": "等待配件"})
    assert not serializer.is_valid()
    assert "new_deadline" in serializer.errors
    form = AskExtensionForm({"new_deadline": value[:16], "reason": "等待配件"}, petition=None, user=None)
    assert not form.is_valid()
    assert "new_deadline" in form.errors
