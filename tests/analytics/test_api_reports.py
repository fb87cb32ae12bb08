"""The report API: scoped list with ?area=&month=, detail with every figure, bad input."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from analytics.services.reports import report_generate

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 12, 1, 2, tzinfo=SH)


@pytest.fixture
def reports(tree):
    return {
        code: report_generate(area=tree[code], year=2025, month=11, now=NOW, publish=True)
        for code in ("D", "DS0", "DS1", "DS0C0")
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_street_sees_its_own_and_its_communities_reports_only(reports, street_command):
    client = client_for(street_command)
    body = client.get("/api/v1/reports/").json()
    codes = sorted(item["area"]["code"] for item in body["results"])
    assert codes == ["DS0", "DS0C0"]
    assert client.get(f"/api/v1/reports/{reports['DS1'].pk}/").status_code == 404
    assert client.get(f"/api/v1/reports/{reports['D'].pk}/").status_code == 404


def test_the_detail_serves_every_figure_as_stored(reports, street_command):
    body = client_for(street_command).get(f"/api/v1/reports/{reports['DS0'].pk}/").json()
    assert body["figures"] == reports["DS0"].figures
    assert body["status"] == "published" and body["month"] == "2025-11" and body["version"] == 1


def test_it_filters_by_area_and_month(reports, district_centre):
    client = client_for(district_centre)
    body = client.get("/api/v1/reports/", {"area": "DS1", "month": "2025-11"}).json()
    assert [item["id"] for item in body["results"]] == [reports["DS1"].pk]
    assert client.get("/api/v1/reports/", {"month": "2025-10"}).json()["results"] == []


def test_a_bad_month_is_refused_with_a_message(reports, district_centre):
    response = client_for(district_centre).get("/api/v1/reports/", {"month": "2025-13"})
    assert response.status_code == 400
    assert "YYYY-MM" in str(response.json())


def test_residents_and_departments_see_no_report(reports, resident, department_handler):
    for user in (resident, department_handler):
        assert client_for(user).get("/api/v1/reports/").json()["results"] == []
    assert Client().get("/api/v1/reports/").status_code in (401, 403)
