"""The staff worklist: filters, area picker, sorting, SLA words, capped count, bulk accept, map, XLSX export."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from appeals.models import Category, CategoryKind, Channel, Petition, Status, Urgency
from appeals.services import petition_accept, petition_escalate
from appeals.worklist import SLA_NONE, SLA_OK, SLA_OVERDUE, SLA_URGENT, SLA_WARN, duration_words, sla_for
from governance.models import AccessLog, AccessReason
from governance.workcalendar import CALENDAR_TZ
from tests.appeals.conftest import POINT_OTHER_STREET


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def listed(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("appeals:list"), {"tab": "all", **params})
    assert response.status_code == 200
    return {row["petition"].tracking_no for row in response.context["rows"]}


# --- Filters -------------------------------------------------------------------------------------


def test_the_text_search_looks_in_title_description_and_address(client, submit, grid_worker_a):
    by_title = submit(title="楼道噪音扰民")
    by_text = submit(title="其他问题", description="夜里楼道噪音很大")
    by_address = submit(title="其他问题二", description="无", address="幸福路噪音巷3号")
    submit(title="井盖缺失", description="人行道井盖丢了")

    expected = {by_title.tracking_no, by_text.tracking_no, by_address.tracking_no}
    assert listed(client, grid_worker_a, q="噪音") == expected  # two characters: no trigram
    assert listed(client, grid_worker_a, q="楼道噪音") == {by_title.tracking_no, by_text.tracking_no}
    assert listed(client, grid_worker_a, q=by_title.tracking_no.lower()) == {by_title.tracking_no}


def test_category_filter_takes_a_sub_class_or_its_whole_class(client, submit, grid_worker_a, category):
    other = Category.objects.create(code="T0102", name="测试占道经营", kind=CategoryKind.EVENT, parent=category.parent)
    first = submit()
    second = submit(title="占道", category=other)

    assert listed(client, grid_worker_a, category=str(other.pk)) == {second.tracking_no}
    assert listed(client, grid_worker_a, category=f"class:{category.parent_id}") == {
        first.tracking_no,
        second.tracking_no,
    }
    client.force_login(grid_worker_a)
    page = client.get(reverse("appeals:list")).content.decode()
    assert f'<optgroup label="{category.parent.name}">' in page


def test_channel_tier_supervised_and_dates_narrow_the_list(client, submit, grid_worker_a):
    hotline = submit(channel=Channel.HOTLINE, title="热线来电")
    mobile = submit()
    Petition.objects.filter(pk=mobile.pk).update(supervised=True)
    Petition.objects.filter(pk=hotline.pk).update(created_at=datetime(2026, 3, 1, 9, tzinfo=CALENDAR_TZ))

    assert listed(client, grid_worker_a, channel=Channel.HOTLINE) == {hotline.tracking_no}
    assert listed(client, grid_worker_a, supervised="on") == {mobile.tracking_no}
    assert listed(client, grid_worker_a, tier="1") == {hotline.tracking_no, mobile.tracking_no}
    assert listed(client, grid_worker_a, created_from="2026-03-01", created_to="2026-03-01") == {hotline.tracking_no}
    assert listed(client, grid_worker_a, created_from="2026-03-02") == {mobile.tracking_no}


def test_bad_dates_are_refused_with_a_message_and_narrow_nothing(client, submit, grid_worker_a):
    petition = submit()
    client.force_login(grid_worker_a)
    response = client.get(
        reverse("appeals:list"), {"tab": "all", "created_from": "2026-05-02", "created_to": "2026-05-01"}
    )
    assert "The end date is before the start date." in response.content.decode()
    response = client.get(reverse("appeals:list"), {"tab": "all", "created_from": "0001-01-01"})
    assert "Dates must lie between" in response.content.decode()
    assert {row["petition"].tracking_no for row in response.context["rows"]} == {petition.tracking_no}


def test_an_area_inside_the_scope_narrows_and_one_outside_is_refused(
    client, submit, street_command, tree, grid_worker_a
):
    in_grid = submit()
    submit(POINT_OTHER_STREET, title="另一街道")

    assert listed(client, street_command, area="DS0C0G0") == {in_grid.tracking_no}
    assert listed(client, street_command, area="DS0C0G1") == set()
    client.force_login(street_command)
    response = client.get(reverse("appeals:list"), {"tab": "all", "area": "DS1"})
    assert "This area is not in your jurisdiction." in response.content.decode()
    # Refused, never applied: the list stays the street's own.
    assert {row["petition"].tracking_no for row in response.context["rows"]} == {in_grid.tracking_no}
    # A grid worker cannot name the street above them either.
    assert listed(client, grid_worker_a, area="DS0") == {in_grid.tracking_no}


def test_the_area_picker_lists_only_the_users_subtree(client, tree, street_command):
    client.force_login(street_command)
    body = client.get(reverse("appeals:area_picker")).content.decode()
    assert "area=DS0C0" in body and "area=DS1" not in body and "area=D&" not in body
    found = client.get(reverse("appeals:area_picker"), {"area_q": "G1", "tab": "todo"}).content.decode()
    assert "area=DS0C0G1" in found and "DS1C1G1" not in found
    # The links keep the other filters.
    assert "tab=todo&amp;area=DS0C0G1" in found


def test_the_deadline_sort_puts_the_soonest_first_and_no_deadline_last(client, submit, grid_worker_a):
    later, sooner, none = submit(title="一"), submit(title="二"), submit(title="三")
    now = timezone.now()
    Petition.objects.filter(pk=later.pk).update(deadline_at=now + timedelta(days=3))
    Petition.objects.filter(pk=sooner.pk).update(deadline_at=now + timedelta(hours=2))
    Petition.objects.filter(pk=none.pk).update(deadline_at=None)
    client.force_login(grid_worker_a)

    response = client.get(reverse("appeals:list"), {"tab": "all", "sort": "deadline"})

    assert [row["petition"].pk for row in response.context["rows"]] == [sooner.pk, later.pk, none.pk]


# --- SLA and time left -------------------------------------------------------------------------


def test_time_left_is_working_time_in_words():
    assert duration_words(timedelta(hours=7 * 2 + 3), working=True) == "2 working days 3 hours"
    assert duration_words(timedelta(minutes=45), working=True) == "45 minutes"
    assert duration_words(timedelta(days=1, hours=2), working=False) == "1 day 2 hours"


def test_the_sla_colour_follows_the_share_of_time_left(db):
    # Now Monday 2026-11-30 09:00 Beijing time; the clock started the Thursday before at 08:30.
    now = datetime(2026, 11, 30, 9, 0, tzinfo=CALENDAR_TZ)
    start = datetime(2026, 11, 26, 8, 30, tzinfo=CALENDAR_TZ)

    def row(deadline, **extra):
        values = {"status": Status.ACCEPTED, "clock_started_at": start, "created_at": start, "deadline_at": deadline}
        return Petition(**{**values, **extra})

    late = sla_for(row(now - timedelta(hours=5)), now)
    assert (late.level, late.words) == (SLA_OVERDUE, "Overdue by 5 hours")
    # Until Friday 17:30: 34.5 of 49 working hours left.
    assert sla_for(row(datetime(2026, 12, 4, 17, 30, tzinfo=CALENDAR_TZ)), now).level == SLA_OK
    # Until Tuesday 17:30: 13.5 of 28 working hours left, under half.
    assert sla_for(row(datetime(2026, 12, 1, 17, 30, tzinfo=CALENDAR_TZ)), now).level == SLA_WARN
    soon = sla_for(row(datetime(2026, 11, 30, 11, 0, tzinfo=CALENDAR_TZ)), now)
    assert (soon.level, soon.words) == (SLA_URGENT, "2 hours left")
    # Saturday night does not count for a working-time limit, but does for an emergency.
    saturday = datetime(2026, 11, 28, 22, 0, tzinfo=CALENDAR_TZ)
    monday_noon = datetime(2026, 11, 30, 12, 0, tzinfo=CALENDAR_TZ)
    assert sla_for(row(monday_noon), saturday).words == "3 hours 30 minutes left"
    assert sla_for(row(monday_noon, urgency=Urgency.EMERGENCY), saturday).words == "1 day 14 hours left"
    assert sla_for(row(None, status=Status.CLOSED), now).level == SLA_NONE


# --- Paging and cost ---------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_page_size(client, submit, grid_worker_a):
    for i in range(25):
        submit(title=f"问题{i}", description=f"描述{i}")
    client.force_login(grid_worker_a)
    client.get(reverse("appeals:list"), {"tab": "all"})  # warm the session and the caches

    with CaptureQueriesContext(connection) as small:
        response = client.get(reverse("appeals:list"), {"tab": "all", "per_page": "20"})
    assert len(response.context["rows"]) == 20
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("appeals:list"), {"tab": "all", "per_page": "50"})
    assert len(response.context["rows"]) == 25

    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


def test_the_count_stops_at_the_cap(client, submit, grid_worker_a, monkeypatch):
    monkeypatch.setattr("appeals.views.COUNT_CAP", 3)
    for i in range(5):
        submit(title=f"问题{i}")
    client.force_login(grid_worker_a)

    response = client.get(reverse("appeals:list"), {"tab": "all", "per_page": "20"})

    assert response.context["page"].paginator.count_exact is False
    assert "3+ petitions" in response.content.decode()
    exact = client.get(reverse("appeals:list"), {"tab": "all", "q": "问题1"})
    assert "1 petition" in exact.content.decode()


# --- Bulk accept -------------------------------------------------------------------------------


def test_bulk_accept_goes_through_the_policy_per_row(client, submit, grid_worker_a, community_secretary):
    waiting = submit()
    accepted = submit(title="已签收")
    petition_accept(petition_id=accepted.pk, actor=grid_worker_a)
    escalated = submit(title="已上报")
    petition_escalate(petition_id=escalated.pk, actor=grid_worker_a, note="需要社区")
    outside = submit(POINT_OTHER_STREET, title="别处")
    client.force_login(grid_worker_a)

    page = client.get(reverse("appeals:list"), {"tab": "all"})
    offered = {row["petition"].tracking_no for row in page.context["rows"] if row["can_accept"]}
    assert offered == {waiting.tracking_no}

    numbers = [waiting.tracking_no, accepted.tracking_no, escalated.tracking_no, outside.tracking_no]
    response = client.post(reverse("appeals:bulk_accept"), {"petition": numbers, "next": "?tab=all"})

    assert response.status_code == 200
    results = {row["no"]: row for row in response.context["results"]}
    assert results[waiting.tracking_no]["ok"] is True
    assert not results[accepted.tracking_no]["ok"] and not results[escalated.tracking_no]["ok"]
    assert results[""]["message"] == "Not found in your area."  # not echoed
    assert outside.tracking_no not in response.content.decode()
    assert response.context["done"] == 1
    waiting.refresh_from_db()
    assert waiting.status == Status.ACCEPTED and waiting.events.filter(type="accepted").exists()
    escalated.refresh_from_db()
    assert escalated.status == Status.ASSIGNED  # untouched: refused by the policy


def test_bulk_accept_with_nothing_ticked_says_so(client, grid_worker_a):
    client.force_login(grid_worker_a)
    response = client.post(reverse("appeals:bulk_accept"), {"next": "?tab=todo"}, follow=True)
    assert "Tick the petitions to accept first." in response.content.decode()


# --- Map and export ----------------------------------------------------------------------------


def test_the_map_shows_the_same_filtered_list(client, submit, grid_worker_a):
    noise = submit(title="楼道噪音扰民")
    submit(title="井盖缺失", description="人行道井盖丢了")
    submit(title="没有位置的噪音", lon=None, lat=None)
    client.force_login(grid_worker_a)

    response = client.get(reverse("appeals:map"), {"tab": "all", "q": "噪音"})

    points = json.loads(
        response.content.decode().split('id="worklist-points" type="application/json">')[1].split("</script>")[0]
    )
    assert [p["no"] for p in points] == [noise.tracking_no]
    assert points[0]["url"] == reverse("appeals:detail", args=[noise.tracking_no])


def test_the_export_is_masked_by_role_escaped_and_logged(client, submit, grid_worker_a, street_command):
    petition = submit(title='=HYPERLINK("http://x") 请回电13912342468', contact_name="王小明")

    def export(user):
        client.force_login(user)
        response = client.get(reverse("appeals:export"), {"tab": "all"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        return dict(zip(rows[0], rows[1], strict=True))

    handler_row = export(grid_worker_a)
    assert handler_row["Contact phone"] == "13800138000" and handler_row["Contact name"] == "王小明"
    assert handler_row["Title"].startswith("'=HYPERLINK")
    street_row = export(street_command)
    assert street_row["Contact phone"] == "138******00" and "13912342468" not in street_row["Title"]

    logs = AccessLog.objects.filter(reason=AccessReason.EXPORT, record=petition.tracking_no).order_by("pk")
    assert [(log.user, log.fields) for log in logs] == [
        (grid_worker_a, "contact_name,contact_phone,title,address"),
        (street_command, "contact_name:masked,contact_phone:masked,title:masked,address:masked"),
    ]


def test_too_large_an_export_asks_to_narrow_the_filter(client, submit, grid_worker_a, monkeypatch):
    monkeypatch.setattr("appeals.views.EXPORT_MAX_ROWS", 1)
    submit(), submit(title="二")
    client.force_login(grid_worker_a)
    response = client.get(reverse("appeals:export"), {"tab": "all"}, follow=True)
    assert "narrow the filter" in response.content.decode()
    assert not AccessLog.objects.filter(reason=AccessReason.EXPORT).exists()


# --- 待办 in its indexed shape -----------------------------------------------------------------


def _status_sets(condition) -> list[set[str] | None]:
    """For each OR branch of a todo_filter condition, the states it allows (None: unrestricted)."""
    from django.db.models import Q

    branches = condition.children if condition.connector == Q.OR else [condition]
    result = []
    for branch in branches:
        found = None
        items = branch.children if isinstance(branch, Q) else [branch]
        for item in items:
            if isinstance(item, tuple) and item[0] in ("status", "status__in"):
                found = {item[1]} if item[0] == "status" else set(item[1])
            if isinstance(item, tuple) and item == ("pk__in", []):
                found = set()
        result.append(found)
    return result


def test_every_todo_branch_lies_within_the_indexed_states(
    submit, grid_worker_a, community_secretary, street_command, district_centre, department_handler, administrator
):
    from appeals.policy import todo_filter
    from appeals.selectors import TODO_STATUSES

    for user in (
        grid_worker_a,
        community_secretary,
        street_command,
        district_centre,
        department_handler,
        administrator,
    ):
        for states in _status_sets(todo_filter(user)):
            assert states is not None and states <= set(TODO_STATUSES), (user, states)


def test_the_indexed_todo_shape_selects_the_policys_rows(
    todo_states, grid_worker_a, community_secretary, street_command, district_centre, department_handler
):
    from appeals.policy import todo_filter
    from appeals.selectors import todo_condition

    waiting, whistled = todo_states["waiting"], todo_states["whistled"]
    for user in (grid_worker_a, community_secretary, street_command, district_centre, department_handler):
        plain = set(Petition.objects.filter(todo_filter(user)).values_list("pk", flat=True))
        shaped = set(Petition.objects.filter(todo_condition(user)).values_list("pk", flat=True))
        assert plain == shaped, user
    assert waiting.pk in set(Petition.objects.filter(todo_condition(grid_worker_a)).values_list("pk", flat=True))
    assert set(Petition.objects.filter(todo_condition(department_handler)).values_list("pk", flat=True)) == {
        whistled.pk
    }
