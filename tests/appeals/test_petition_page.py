"""The staff petition page (issue 6, item 4): map, photos, timeline in words, rating rounds, repeats,
internal notes, reply templates, and pickers that fit their lists."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from appeals.models import EventType, Petition, PetitionNote, PetitionRating, Rating, ReplyTemplate, Status
from appeals.page_selectors import local_minute
from appeals.services import (
    petition_accept,
    petition_handle,
    petition_rate,
    petition_reply,
    petition_whistle,
)
from appeals.services.notes import petition_note_add
from governance.errors import DomainError, Forbidden
from governance.models import DepartmentKind, Role
from tests.appeals.conftest import act
from tests.factories import make_department, make_user

SECRET_NOTE = "内部备注：住户情绪激动，勿在群里提"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def page(client, user, petition, status=200):
    client.force_login(user)
    response = client.get(reverse("appeals:detail", args=[petition.tracking_no]))
    assert response.status_code == status
    return response


# --- Map, timeline, ratings ----------------------------------------------------------------------


def test_the_map_draws_the_point_and_its_micro_grid_from_our_own_boundaries(client, submit, grid_worker_a, tree):
    petition = submit()

    data = page(client, grid_worker_a, petition).context["map_data"]

    assert data["point"] == [petition.lon, petition.lat]
    assert data["boundary"] == tree["DS0C0G0M0"].boundary
    assert data["name"] == tree["DS0C0G0M0"].name


def test_the_timeline_says_when_which_unit_which_role_who_and_what(client, submit, grid_worker_a):
    grid_worker_a.last_name, grid_worker_a.first_name = "张", "三"
    grid_worker_a.save()
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)

    lines = page(client, grid_worker_a, petition).context["timeline"]

    accepted = next(line for line in lines if line.event.type == EventType.ACCEPTED)
    assert (accepted.unit, accepted.role, accepted.person) == ("第1街道1社区1网格", "Grid worker", "张三")
    routed = next(line for line in lines if line.event.type == EventType.ROUTED)
    assert routed.detail == "→ 第1街道1社区1网格"
    assert routed.person == "System"


def test_times_are_beijing_time_in_chinese_order(submit):
    petition = submit()
    event = petition.events.get(type=EventType.SUBMITTED)
    beijing = event.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))

    with translation.override("zh-hans"):
        words = local_minute(event.created_at)

    assert words == f"{beijing.month}月{beijing.day}日 {beijing:%H:%M}"


def test_the_page_lists_each_rounds_rating(client, submit, grid_worker_a, resident):
    petition = submit(submitter=resident)
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已清运")
    petition_rate(petition_id=petition.pk, actor=resident, rating=Rating.UNSATISFIED)

    response = page(client, grid_worker_a, petition)

    ratings = response.context["ratings"]
    assert [(r.round_number, r.rating) for r in ratings] == [(1, Rating.UNSATISFIED)]
    assert ratings == list(PetitionRating.objects.filter(petition=petition))
    assert "Rating rounds" in response.content.decode()


def test_photos_are_thumbnails_linking_to_the_full_image(client, submit, grid_worker_a, settings, tmp_path):
    from django.core.files.base import ContentFile

    from appeals.models import PetitionPhoto

    settings.MEDIA_ROOT = tmp_path
    petition = submit()
    photo = PetitionPhoto.objects.create(petition=petition, image=ContentFile(b"\xff\xd8\xff" + b"0" * 32, "a.jpg"))

    html = page(client, grid_worker_a, petition).content.decode()

    url = reverse("appeals:photo", args=[petition.tracking_no, photo.pk])
    assert f'<a href="{url}" class="pp-photo"' in html  # works without JavaScript: a link to the image
    assert f'<img src="{url}"' in html


def test_the_contact_is_masked_for_a_tier_above_and_shown_to_the_grid(client, submit, grid_worker_a, street_command):
    petition = submit(contact_phone="13912345678")

    assert page(client, grid_worker_a, petition).context["phone"] == "13912345678"
    assert page(client, street_command, petition).context["phone"] != "13912345678"


# --- Repeats and the merge action ----------------------------------------------------------------


def test_a_repeat_is_merged_into_its_master_from_the_masters_page(client, submit, grid_worker_a):
    master = submit()
    repeat = submit()
    Petition.objects.filter(pk=repeat.pk).update(repeat_of=master)

    response = page(client, grid_worker_a, master)
    shown = response.context["repeats"]
    assert [(p.tracking_no, p.can_merge_here) for p in shown] == [(repeat.tracking_no, True)]

    client.force_login(grid_worker_a)
    done = client.post(
        reverse("appeals:act", args=[repeat.tracking_no, "merge"]),
        {"merge-into": master.tracking_no, "back": master.tracking_no},
    )

    assert done.status_code == 302
    assert done.url == reverse("appeals:detail", args=[master.tracking_no])
    repeat.refresh_from_db()
    assert repeat.status == Status.MERGED and repeat.merged_into_id == master.pk


def test_a_repeats_own_merge_form_suggests_its_master(client, submit, grid_worker_a):
    master = submit()
    repeat = submit()
    Petition.objects.filter(pk=repeat.pk).update(repeat_of=master)

    form = page(client, grid_worker_a, repeat).context["merge_form"]["form"]

    assert form.initial["into"] == master.tracking_no


# --- Internal notes ------------------------------------------------------------------------------


def test_staff_write_an_internal_note_and_it_leaves_an_event(client, submit, grid_worker_a):
    petition = submit()
    client.force_login(grid_worker_a)

    response = client.post(reverse("appeals:note_add", args=[petition.tracking_no]), {"text": SECRET_NOTE})

    assert response.status_code == 302
    note = PetitionNote.objects.get(petition=petition)
    assert (note.author, note.text) == (grid_worker_a, SECRET_NOTE)
    event = petition.events.get(type=EventType.NOTE_ADDED)
    assert (event.actor, event.note, event.extra) == (grid_worker_a, "", {"note_id": note.pk})
    assert event.from_status == event.to_status == Status.ASSIGNED
    assert SECRET_NOTE in page(client, grid_worker_a, petition).content.decode()


def test_a_note_is_never_shown_to_the_resident_the_tracking_api_or_open311(client, submit, grid_worker_a, resident):
    petition = submit(submitter=resident, contact_phone="13800138000")
    petition_note_add(petition_id=petition.pk, actor=grid_worker_a, text=SECRET_NOTE)

    client.logout()
    client.get(reverse("appeals:track_token", args=[petition.access_token]))
    tracking_page = client.get(reverse("appeals:track_status", args=[petition.tracking_no]))
    tracking_api = client.get(reverse("api-track"), {"tracking_no": petition.tracking_no, "phone": "13800138000"})
    open311 = client.get(f"/open311/v2/requests/{petition.tracking_no}.json")
    open311_list = client.get("/open311/v2/requests.json")
    client.force_login(resident)
    own_page = client.get(reverse("appeals:track_status", args=[petition.tracking_no]))

    for response in (tracking_page, tracking_api, open311, open311_list, own_page):
        assert response.status_code == 200, response
        body = response.content.decode()
        assert SECRET_NOTE not in body
        assert "note_added" not in body and "Internal note" not in body
    assert petition.tracking_no in tracking_api.content.decode()


def test_a_note_needs_text_and_says_so_on_the_page(client, submit, grid_worker_a):
    petition = submit()
    client.force_login(grid_worker_a)

    response = client.post(reverse("appeals:note_add", args=[petition.tracking_no]), {"text": "  "})

    assert response.status_code == 400
    assert response.context["note_form"].errors["text"]
    assert not PetitionNote.objects.exists()


def test_only_staff_who_see_the_petition_write_notes(client, submit, grid_worker_b, resident):
    petition = submit()

    client.force_login(grid_worker_b)
    assert client.post(reverse("appeals:note_add", args=[petition.tracking_no]), {"text": "x"}).status_code == 404
    client.force_login(resident)
    assert client.post(reverse("appeals:note_add", args=[petition.tracking_no]), {"text": "x"}).status_code == 404
    for actor in (resident, grid_worker_b, None):
        with pytest.raises(Forbidden):
            petition_note_add(petition_id=petition.pk, actor=actor, text="x")
    assert not PetitionNote.objects.exists()
    assert not petition.events.filter(type=EventType.NOTE_ADDED).exists()


def test_a_department_on_the_case_writes_notes_in_any_status(client, at_street, street_command, department):
    handler = make_user("handler_note", role=Role.DEPARTMENT_HANDLER, department=department)
    petition_whistle(petition_id=at_street.pk, actor=street_command, lead_department_id=department.pk)

    assert page(client, handler, at_street).context["note_form"] is not None
    petition_note_add(petition_id=at_street.pk, actor=handler, text="部门现场勘查")

    assert PetitionNote.objects.filter(petition=at_street, author=handler).exists()


# --- Reply templates -----------------------------------------------------------------------------


def test_the_reply_form_fills_the_reply_from_a_template_without_javascript(
    client, submit, grid_worker_a, category, tree
):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    mine = ReplyTemplate.objects.create(district=tree["D"], category=category, title="已清运", text="垃圾已清运完毕。")
    any_category = ReplyTemplate.objects.create(district=None, title="通用", text="问题已处理。")
    ReplyTemplate.objects.create(title="停用", text="x", is_active=False)
    other = ReplyTemplate.objects.create(category=None, district=make_other_district(), title="外区", text="x")

    form = next(
        a["form"] for a in page(client, grid_worker_a, petition).context["action_forms"] if a["name"] == "reply"
    )
    offered = [value for value, _label in form.fields["template"].choices if value]
    assert offered == [str(mine.pk), str(any_category.pk)]
    assert str(other.pk) not in offered
    assert 'data-text="垃圾已清运完毕。"' in str(form["template"])

    response = act(client, grid_worker_a, petition, "reply", {"template": mine.pk, "reply": ""})

    assert response.status_code == 302
    petition.refresh_from_db()
    assert (petition.status, petition.reply) == (Status.RESOLVED, "垃圾已清运完毕。")


def make_other_district():
    from grids.models import Area, AreaLevel

    return Area.objects.create(code="X", name="外区", level=AreaLevel.DISTRICT, path="/X/")


def test_a_reply_with_neither_text_nor_template_is_refused(client, submit, grid_worker_a):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)

    response = act(client, grid_worker_a, petition, "reply", {"reply": ""})

    assert response.status_code == 400
    petition.refresh_from_db()
    assert petition.status == Status.PROCESSING


def test_the_district_centre_manages_reply_templates(client, district_centre, category, tree):
    client.force_login(district_centre)

    assert client.get(reverse("appeals:reply_templates")).status_code == 200
    created = client.post(
        reverse("appeals:reply_templates"),
        {
            "district": tree["D"].pk,
            "category": category.pk,
            "title": "已清运",
            "text": "垃圾已清运。",
            "is_active": "on",
        },
    )
    assert created.status_code == 302
    template = ReplyTemplate.objects.get()
    assert (template.district, template.category, template.is_active) == (tree["D"], category, True)

    edited = client.post(
        reverse("appeals:reply_template_edit", args=[template.pk]),
        {"district": tree["D"].pk, "category": "", "title": "已清运", "text": "垃圾已清运。"},
    )
    assert edited.status_code == 302
    template.refresh_from_db()
    assert (template.category, template.is_active) == (None, False)


def test_only_the_district_centre_reaches_the_reply_templates(client, street_command, grid_worker_a, resident, tree):
    template = ReplyTemplate.objects.create(district=tree["D"], title="t", text="x")
    for user in (street_command, grid_worker_a, resident):
        client.force_login(user)
        assert client.get(reverse("appeals:reply_templates")).status_code == 404
        assert client.post(reverse("appeals:reply_templates"), {"title": "t", "text": "x"}).status_code == 404
        assert client.get(reverse("appeals:reply_template_edit", args=[template.pk])).status_code == 404
    assert ReplyTemplate.objects.count() == 1


def test_a_district_centre_cannot_write_another_districts_template(client, district_centre):
    other = make_other_district()
    template = ReplyTemplate.objects.create(district=other, title="外区", text="x")
    client.force_login(district_centre)

    assert client.get(reverse("appeals:reply_template_edit", args=[template.pk])).status_code == 404
    refused = client.post(reverse("appeals:reply_templates"), {"district": other.pk, "title": "t", "text": "x"})

    assert refused.status_code == 400
    assert ReplyTemplate.objects.count() == 1


# --- Department picker ---------------------------------------------------------------------------


def test_departments_are_grouped_by_kind_and_the_categorys_default_is_suggested(
    client, at_street, street_command, department
):
    make_department("GAS", "燃气公司").__class__.objects.filter(code="GAS").update(kind=DepartmentKind.UTILITY)
    make_department("WY1", "某物业公司").__class__.objects.filter(code="WY1").update(kind=DepartmentKind.PROPERTY)

    forms = page(client, street_command, at_street).context["action_forms"]
    form = next(a["form"] for a in forms if a["name"] == "whistle")

    groups = [label for label, _options in form.fields["lead"].choices[1:]]
    assert groups == ["District department", "Utility company", "Property management company"]
    assert form.initial["lead"] == department.pk
    assert "(the category's default)" in dict(form.fields["lead"].choices[1][1])[department.pk]
    html = str(form["lead"])
    assert '<optgroup label="Utility company">' in html and "data-searchable" in html


def test_the_lead_department_cannot_also_assist(client, at_street, street_command, department):
    client.force_login(street_command)

    with translation.override("zh-hans"):
        response = client.post(
            reverse("appeals:act", args=[at_street.tracking_no, "whistle"]),
            {"whistle-lead": department.pk, "whistle-assisting": [department.pk]},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )

    assert response.status_code == 400
    assert "主办部门不能同时作为协办部门。" in response.content.decode()
    at_street.refresh_from_db()
    assert at_street.status == Status.ASSIGNED


# --- Placing: the area tree, the map and the suggestion ------------------------------------------


@pytest.fixture
def intake(submit, tree):
    """A petition nothing located: it waits in community DS0C0's intake queue."""
    petition = submit(point=None, reported_area=tree["DS0C0"], address="第1街道1社区2网格 8号楼")
    assert petition.status == Status.INTAKE
    return petition


def test_placing_suggests_the_area_the_address_names_and_places_by_code(client, intake, community_secretary, tree):
    response = page(client, community_secretary, intake)

    form = response.context["place_form"]["form"]
    assert form.suggestion.area == tree["DS0C0G1"]
    assert form.initial["area"] == "DS0C0G1"
    labels = [label for _value, label in form.fields["area"].choices]
    assert labels[:3] == ["\u3000第1街道1社区", "\u3000\u3000第1街道1社区1网格", "\u3000\u3000第1街道1社区2网格"]
    assert response.context["place_map"]["locate_url"] == reverse("api-area-locate")

    done = act(client, community_secretary, intake, "place", {"area": "DS0C0G0"})

    assert done.status_code == 302
    intake.refresh_from_db()
    assert (intake.status, intake.handler_area) == (Status.ASSIGNED, tree["DS0C0G0"])


def test_placing_suggests_the_grid_of_earlier_petitions_at_the_same_address(client, submit, community_secretary, tree):
    submit(point=(120.015, 36.005), address="幸福路12号院")  # located in DS0C0G1
    petition = submit(point=None, reported_area=tree["DS0C0"], address="幸福路12号院")

    form = page(client, community_secretary, petition).context["place_form"]["form"]

    assert form.suggestion.area == tree["DS0C0G1"]
    assert "1 earlier petition" in form.suggestion.reason


def test_an_area_outside_ones_scope_cannot_be_placed_to(client, intake, community_secretary):
    response = act(client, community_secretary, intake, "place", {"area": "DS1C1G1"})

    assert response.status_code == 400
    intake.refresh_from_db()
    assert intake.status == Status.INTAKE


def test_a_note_is_a_legal_event_in_every_status(submit, grid_worker_a, resident):
    petition = submit(submitter=resident)
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已清运")
    petition_rate(petition_id=petition.pk, actor=resident, rating=Rating.SATISFIED)
    petition.refresh_from_db()
    assert petition.status == Status.CLOSED

    petition_note_add(petition_id=petition.pk, actor=grid_worker_a, text="结案后补记")

    assert petition.events.filter(type=EventType.NOTE_ADDED, to_status=Status.CLOSED).exists()
    with pytest.raises(DomainError):
        petition_note_add(petition_id=petition.pk, actor=grid_worker_a, text="x" * 2001)


def test_the_pages_query_count_does_not_grow_with_the_timeline_or_the_notes(client, submit, grid_worker_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from appeals.services import petition_note_progress

    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    page(client, grid_worker_a, petition)  # warm the session and the caches
    with CaptureQueriesContext(connection) as few:
        page(client, grid_worker_a, petition)
    for i in range(6):
        petition_note_progress(petition_id=petition.pk, actor=grid_worker_a, note=f"进展{i}")
        petition_note_add(petition_id=petition.pk, actor=grid_worker_a, text=f"备注{i}")
    with CaptureQueriesContext(connection) as many:
        response = page(client, grid_worker_a, petition)

    assert len(response.context["timeline"]) >= 15 and len(response.context["notes"]) == 6
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
