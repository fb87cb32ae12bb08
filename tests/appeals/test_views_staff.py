"""The staff desk: scoped lists, the petition page, and the action forms that call the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appeals.models import Assignment, Petition, Status, Tier
from appeals.services import petition_accept, petition_escalate, petition_handle, petition_reply, petition_whistle
from governance.models import AccessLog
from tests.appeals.conftest import POINT_OTHER_STREET, act


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def listed(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("appeals:list"), {"tab": "all", **params})
    assert response.status_code == 200
    return {p.tracking_no for p in response.context["page"]}


# --- Lists ---------------------------------------------------------------------------------------


def test_a_grid_worker_lists_only_the_petitions_of_their_grid(client, submit, grid_worker_a, grid_worker_b):
    in_a = submit()

    assert listed(client, grid_worker_a) == {in_a.tracking_no}
    assert listed(client, grid_worker_b) == set()


def test_a_street_lists_its_petitions_and_not_the_other_streets(client, submit, street_command, other_street_command):
    mine = submit()
    theirs = submit(POINT_OTHER_STREET, title="路灯不亮", description="路灯坏了一周")

    assert listed(client, street_command) == {mine.tracking_no}
    assert listed(client, other_street_command) == {theirs.tracking_no}


def test_a_department_lists_only_what_was_dispatched_to_it(
    client, submit, at_street, street_command, department, department_handler
):
    submit(title="另一件事", description="与部门无关")
    petition_whistle(petition_id=at_street.pk, actor=street_command, lead_department_id=department.pk)

    assert listed(client, department_handler) == {at_street.tracking_no}
    assert listed(client, department_handler, tab="todo") == {at_street.tracking_no}


def test_the_tabs_split_to_do_not_yet_accepted_and_done(client, submit, grid_worker_a):
    waiting = submit()
    done = submit(title="井盖缺失", description="人行道井盖丢了")
    petition_accept(petition_id=done.pk, actor=grid_worker_a)
    petition_handle(petition_id=done.pk, actor=grid_worker_a)
    petition_reply(petition_id=done.pk, actor=grid_worker_a, reply="已补装")

    assert listed(client, grid_worker_a, tab="todo") == {waiting.tracking_no}
    assert listed(client, grid_worker_a, tab="pending") == {waiting.tracking_no}
    assert listed(client, grid_worker_a, tab="done") == {done.tracking_no}
    assert listed(client, grid_worker_a, tab="supervised") == set()


def test_the_filters_narrow_the_list(client, submit, grid_worker_a):
    first = submit(title="垃圾堆积")
    second = submit(title="井盖缺失", description="人行道井盖丢了")
    petition_accept(petition_id=second.pk, actor=grid_worker_a)

    assert listed(client, grid_worker_a, status="accepted") == {second.tracking_no}
    assert listed(client, grid_worker_a, q=first.tracking_no) == {first.tracking_no}
    assert listed(client, grid_worker_a, q="井盖") == {second.tracking_no}
    assert listed(client, grid_worker_a, tier=Tier.COMMUNITY) == set()
    assert listed(client, grid_worker_a, overdue="on") == set()


def test_the_list_runs_a_constant_number_of_queries(client, submit, grid_worker_a, department):
    for i in range(3):
        submit(title=f"问题{i}", description=f"描述{i}")
    client.force_login(grid_worker_a)
    client.get(reverse("appeals:list"))  # warm the session

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("appeals:list"), {"tab": "all"})
    for i in range(3, 22):
        submit(title=f"问题{i}", description=f"描述{i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("appeals:list"), {"tab": "all"})

    assert len(response.context["page"]) == 20
    assert len(many) == len(few) <= 8, [q["sql"] for q in many.captured_queries]


def test_residents_are_sent_to_their_own_petitions(client, resident):
    client.force_login(resident)

    response = client.get(reverse("appeals:list"))

    assert response.status_code == 302
    assert response.url == reverse("appeals:mine")


def test_the_list_needs_a_login(client):
    response = client.get(reverse("appeals:list"))

    assert response.status_code == 302


# --- Detail --------------------------------------------------------------------------------------


def test_a_petition_outside_the_users_area_is_not_found(client, submit, grid_worker_b, other_street_command):
    petition = submit()

    for user in (grid_worker_b, other_street_command):
        client.force_login(user)
        assert client.get(reverse("appeals:detail", args=[petition.tracking_no])).status_code == 404
        assert act(client, user, petition, "accept").status_code == 404
    assert client.get(reverse("appeals:detail", args=["999999999999"])).status_code == 404


def test_the_phone_is_masked_for_staff_who_do_not_handle_the_petition(client, submit, street_command):
    petition = submit(description="门口垃圾，有事打139 1234 2468")
    client.force_login(street_command)

    response = client.get(reverse("appeals:detail", args=[petition.tracking_no]))

    body = response.content.decode()
    assert "138******00" in body and "139******68" in body
    assert "13800138000" not in body and "139 1234 2468" not in body
    assert not AccessLog.objects.exists()


def test_the_handling_unit_sees_the_phone_and_the_view_is_logged(client, submit, grid_worker_a):
    petition = submit(description="门口垃圾，有事打139 1234 2468")
    client.force_login(grid_worker_a)

    response = client.get(reverse("appeals:detail", args=[petition.tracking_no]))

    assert "13800138000" in response.content.decode() and "139 1234 2468" in response.content.decode()
    [entry] = AccessLog.objects.all()
    assert (entry.user, entry.record, entry.reason) == (grid_worker_a, petition.tracking_no, "handler_view")
    assert entry.fields == "contact_phone,description"


def test_the_page_offers_only_the_actions_allowed_now(client, submit, grid_worker_a):
    petition = submit()
    client.force_login(grid_worker_a)

    names = [
        a["name"] for a in client.get(reverse("appeals:detail", args=[petition.tracking_no])).context["action_forms"]
    ]

    assert "accept" in names and "escalate" in names and "return" in names
    assert "reply" not in names and "close" not in names
    assert "whistle" not in names  # only the street or the district dispatches
    assert "urge" not in names  # a grid worker is not above the grid


# --- Actions -------------------------------------------------------------------------------------


def test_the_handling_grid_accepts(client, submit, grid_worker_a):
    petition = submit()

    response = act(client, grid_worker_a, petition, "accept")

    assert response.status_code == 302
    assert response.url == reverse("appeals:detail", args=[petition.tracking_no])
    petition.refresh_from_db()
    assert petition.status == Status.ACCEPTED
    page = client.get(response.url)
    assert "Done: accept." in page.content.decode()


def test_a_reply_resolves_the_petition(client, submit, grid_worker_a):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)

    response = act(client, grid_worker_a, petition, "reply", {"reply": "已清运"})

    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == Status.RESOLVED
    assert petition.reply == "已清运"


def test_escalating_moves_the_petition_to_the_community(client, submit, grid_worker_a, tree):
    petition = submit()

    response = act(client, grid_worker_a, petition, "escalate", {"note": "需要社区协调"})

    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.tier == Tier.COMMUNITY
    assert petition.handler_area == tree["DS0C0"]


def test_returning_needs_a_reason_and_keeps_the_form(client, submit, grid_worker_a):
    petition = submit()

    response = act(client, grid_worker_a, petition, "return", {"reason": ""})

    assert response.status_code == 400
    form = next(a["form"] for a in response.context["action_forms"] if a["name"] == "return")
    assert form.errors["reason"]
    petition.refresh_from_db()
    assert petition.status == Status.ASSIGNED


def test_returning_with_a_reason_sends_it_up(client, submit, grid_worker_a, tree):
    petition = submit()

    response = act(client, grid_worker_a, petition, "return", {"reason": "不属于本网格"})

    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == Status.RETURNED
    assert petition.handler_area == tree["DS0C0"]


def test_the_street_whistles_to_a_lead_and_an_assisting_department(client, at_street, street_command, department):
    from tests.factories import make_department

    helper = make_department("SJ", "区市场监管局")

    response = act(client, street_command, at_street, "whistle", {"lead": department.pk, "assisting": [helper.pk]})

    assert response.status_code == 302, response.content.decode()
    at_street.refresh_from_db()
    assert at_street.status == Status.DISPATCHED
    assert set(Assignment.objects.filter(petition=at_street).values_list("department__code", "role")) == {
        ("CG", "lead"),
        ("SJ", "assist"),
    }


def test_the_street_is_offered_the_whistle(client, at_street, street_command):
    client.force_login(street_command)

    response = client.get(reverse("appeals:detail", args=[at_street.tracking_no]))

    assert "whistle" in [a["name"] for a in response.context["action_forms"]]


def test_a_department_reports_in_and_replies_through_the_page(
    client, at_street, street_command, department, department_handler
):
    petition_whistle(petition_id=at_street.pk, actor=street_command, lead_department_id=department.pk)

    assert act(client, department_handler, at_street, "report_in", {"department": department.pk}).status_code == 302
    response = act(
        client, department_handler, at_street, "department_reply", {"department": department.pk, "reply": "已处理"}
    )

    assert response.status_code == 302
    at_street.refresh_from_db()
    assert at_street.status == Status.RESOLVED


def test_a_service_refusal_is_shown_as_an_error_message(client, submit, grid_worker_a):
    petition = submit()

    response = act(client, grid_worker_a, petition, "whistle", {"lead": petition.suggested_department_id})

    assert response.status_code == 409  # the request is right, the petition's tier is not (yet)
    assert "Only the street or the district can dispatch" in response.content.decode()
    petition.refresh_from_db()
    assert petition.status == Status.ASSIGNED


def test_an_invalid_move_names_the_allowed_moves(client, submit, grid_worker_a):
    petition = submit()

    response = act(client, grid_worker_a, petition, "close")

    assert response.status_code == 409
    body = response.content.decode()
    assert "Cannot close a petition that is “Awaiting acceptance”" in body
    assert "Allowed now:" in body and "accept" in body
    petition.refresh_from_db()
    assert petition.status == Status.ASSIGNED


def test_someone_who_is_not_the_handler_is_refused(client, submit, street_command, grid_worker_a):
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="上报")

    response = act(client, grid_worker_a, petition, "accept")

    assert response.status_code == 403
    assert "Only the handling unit may do this." in response.content.decode()
    assert Petition.objects.get(pk=petition.pk).status == Status.ASSIGNED


def test_an_upper_tier_urges_and_supervises(client, submit, street_command):
    petition = submit()

    assert act(client, street_command, petition, "urge", {"note": "请加快"}).status_code == 302
    assert act(client, street_command, petition, "supervise").status_code == 302

    petition.refresh_from_db()
    assert petition.urge_count == 1 and petition.supervised


def test_a_duplicate_is_merged_into_another_petition(client, submit, grid_worker_a):
    master = submit()
    duplicate = submit(title="门口垃圾", description="垃圾没人收")

    response = act(client, grid_worker_a, duplicate, "merge", {"into": master.tracking_no})

    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.status == Status.MERGED and duplicate.merged_into == master


def test_merging_into_an_unknown_number_is_a_field_error(client, submit, grid_worker_a):
    petition = submit()

    response = act(client, grid_worker_a, petition, "merge", {"into": "000000000000"})

    assert response.status_code == 400
    form = next(a["form"] for a in response.context["action_forms"] if a["name"] == "merge")
    assert form.errors["into"]


def test_an_unknown_action_is_not_found(client, submit, grid_worker_a):
    petition = submit()

    assert act(client, grid_worker_a, petition, "route").status_code == 404


def test_photos_are_served_only_within_the_petitions_scope(
    client, submit, grid_worker_a, grid_worker_b, settings, tmp_path
):
    from django.core.files.base import ContentFile

    from appeals.models import PetitionPhoto

    settings.MEDIA_ROOT = tmp_path
    petition = submit()
    photo = PetitionPhoto.objects.create(petition=petition, image=ContentFile(b"\x89PNG\r\n\x1a\n", name="x.png"))
    url = reverse("appeals:photo", args=[petition.tracking_no, photo.pk])

    client.force_login(grid_worker_a)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert url in client.get(reverse("appeals:detail", args=[petition.tracking_no])).content.decode()
    client.force_login(grid_worker_b)
    assert client.get(url).status_code == 404


def test_the_overdue_column_is_empty_on_closed_cases_and_red_only_past_the_deadline(client, submit, grid_worker_a):
    late = submit(title="井盖缺失")
    done = submit(title="路灯不亮")
    Petition.objects.filter(pk=late.pk).update(deadline_at=timezone.now() - timedelta(hours=1))
    # Escalated on its deadline once, then resolved and closed: nothing to show any more.
    Petition.objects.filter(pk=done.pk).update(
        status=Status.CLOSED, escalated_on_deadline=True, deadline_at=None, resolved_at=timezone.now()
    )
    client.force_login(grid_worker_a)

    body = client.get(reverse("appeals:list"), {"tab": "all"}).content.decode()

    rows = {row.split("</a>")[0].rsplit(">", 1)[-1]: row for row in body.split("<tr")[1:] if "</a>" in row}
    assert "sla-row-overdue overdue" in rows[late.tracking_no]
    assert "overdue" not in rows[done.tracking_no].split("</tr>")[0]
    assert '<td class="deadline" data-label="Deadline"></td>' in rows[done.tracking_no]
    assert listed(client, grid_worker_a, overdue="on") == {late.tracking_no}


def test_the_list_page_masks_phones_typed_into_titles(client, submit, grid_worker_a):
    submit(title="门口垃圾 请回电139-1234-2468")
    client.force_login(grid_worker_a)
    page = client.get(reverse("appeals:list"), {"tab": "all"}).content.decode()
    assert "门口垃圾 请回电139******68" in page and "139-1234-2468" not in page
