"""The resident's pages: the mobile form, tracking by number and phone, rating and reopening."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from appeals.forms import MAX_PHOTO_BYTES
from appeals.models import Petition, PetitionPhoto, Status
from appeals.selectors import petition_resident_view
from appeals.services import petition_accept, petition_handle, petition_note_progress, petition_reply

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
NOT_FOUND = "No petition matches this tracking number and phone number."


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def form_data(tree, category):
    return {
        "title": "Rubbish at the gate",
        "description": "Rubbish has not been collected for three days.",
        "category": str(category.pk),
        "community": str(tree["DS0C0"].pk),
        "address": "幸福路12号",
        "lon": "",
        "lat": "",
        "contact_name": "王女士",
        "contact_phone": "13800138000",
        "idempotency_key": str(uuid.uuid4()),
    }


def test_the_form_renders_for_anonymous_visitors_with_a_fresh_idempotency_key(client, category, tree):
    first = client.get(reverse("appeals:new"))
    second = client.get(reverse("appeals:new"))

    assert first.status_code == 200
    assert first.context["form"].initial["idempotency_key"] != second.context["form"].initial["idempotency_key"]
    body = first.content.decode()
    assert 'name="idempotency_key"' in body
    assert "<optgroup" in body and category.name in body
    assert tree["DS0C0"].name in body


def test_it_files_a_petition_and_shows_the_tracking_number(client, form_data, tree, category):
    response = client.post(reverse("appeals:new"), form_data, follow=True)

    petition = Petition.objects.get()
    assert response.redirect_chain[-1][0] == reverse("appeals:submitted")
    assert petition.tracking_no in response.content.decode()
    assert petition.title == "Rubbish at the gate"
    assert petition.category == category
    assert petition.reported_area == tree["DS0C0"]
    assert petition.contact_phone == "13800138000"
    assert petition.channel == "mobile"
    assert petition.submitter is None


def test_a_logged_in_resident_becomes_the_submitter_and_sees_it_in_my_petitions(client, form_data, resident):
    client.force_login(resident)

    client.post(reverse("appeals:new"), form_data)

    petition = Petition.objects.get()
    assert petition.submitter == resident
    mine = client.get(reverse("appeals:mine"))
    assert petition.tracking_no in mine.content.decode()


def test_it_saves_valid_photos_with_the_petition(client, form_data):
    form_data["photos"] = [
        SimpleUploadedFile("a.png", PNG, content_type="image/png"),
        SimpleUploadedFile("b.jpg", JPEG, content_type="image/jpeg"),
    ]

    client.post(reverse("appeals:new"), form_data)

    photos = PetitionPhoto.objects.filter(petition=Petition.objects.get())
    assert sorted(p.image.name.rsplit(".", 1)[1] for p in photos) == ["jpg", "png"]
    # Stored under names of our making (a random hex name may itself end in "a.png": compare whole names).
    assert not {p.image.name.rsplit("/", 1)[-1] for p in photos} & {"a.png", "b.jpg"}


def test_a_double_submit_with_the_same_key_creates_one_petition(client, form_data):
    first = client.post(reverse("appeals:new"), form_data)
    second = client.post(reverse("appeals:new"), form_data)

    assert first.status_code == second.status_code == 302
    assert Petition.objects.count() == 1


def test_a_replayed_key_with_another_phone_does_not_reveal_the_first_petition(client, form_data):
    client.post(reverse("appeals:new"), form_data)
    petition = Petition.objects.get()
    other = Client()  # another browser, without the first one's session
    form_data["contact_phone"] = "13900139000"

    response = other.post(reverse("appeals:new"), form_data)

    assert response.status_code == 400
    assert petition.tracking_no not in response.content.decode()
    assert Petition.objects.count() == 1


def test_a_replay_with_the_phone_written_in_groups_is_the_same_form(client, form_data):
    first = client.post(reverse("appeals:new"), form_data)
    form_data["contact_phone"] = "138-0013-8000"

    second = Client().post(reverse("appeals:new"), form_data)

    assert first.status_code == second.status_code == 302
    assert Petition.objects.count() == 1


def test_back_then_submit_files_no_second_petition_and_shows_the_first_number(client, form_data):
    client.post(reverse("appeals:new"), form_data)
    first = Petition.objects.get()
    # Back, then Submit: the browser posts the same content with a fresh key and lost its location.
    form_data.update(idempotency_key=str(uuid.uuid4()), community="", contact_phone="+86 138 0013 8000")

    response = client.post(reverse("appeals:new"), form_data, follow=True)

    assert Petition.objects.count() == 1
    assert first.tracking_no in response.content.decode()


def test_a_second_submission_after_the_window_is_a_new_petition(client, form_data, settings):
    settings.PETITION_DUPLICATE_WINDOW_SECONDS = 0
    client.post(reverse("appeals:new"), form_data)
    form_data["idempotency_key"] = str(uuid.uuid4())

    client.post(reverse("appeals:new"), form_data)

    assert Petition.objects.count() == 2


def test_the_same_content_from_another_phone_is_another_petition(client, form_data):
    client.post(reverse("appeals:new"), form_data)
    form_data.update(idempotency_key=str(uuid.uuid4()), contact_phone="13900139000")

    Client().post(reverse("appeals:new"), form_data)

    assert Petition.objects.count() == 2


def test_validation_errors_keep_what_was_typed(client, form_data):
    form_data["title"] = ""

    response = client.post(reverse("appeals:new"), form_data)

    assert response.status_code == 400
    body = response.content.decode()
    assert response.context["form"].errors["title"]
    assert "Rubbish has not been collected for three days." in body
    assert 'value="13800138000"' in body
    assert form_data["idempotency_key"] in body
    assert Petition.objects.count() == 0


def test_the_services_field_errors_land_on_the_form_fields(client, form_data):
    form_data["contact_phone"] = "12345"

    response = client.post(reverse("appeals:new"), form_data)

    assert response.status_code == 400
    assert "Please give a valid phone number" in response.context["form"].errors["contact_phone"][0]
    assert 'value="12345"' in response.content.decode()
    assert Petition.objects.count() == 0


def test_it_requires_a_phone(client, form_data):
    form_data["contact_phone"] = ""

    response = client.post(reverse("appeals:new"), form_data)

    assert response.status_code == 400
    assert response.context["form"].errors["contact_phone"]
    assert Petition.objects.count() == 0


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("evil.png", b"MZ\x90\x00 not an image", content_type="image/png"), "is not a photo"),
        (SimpleUploadedFile("doc.pdf", b"%PDF-1.4", content_type="application/pdf"), "is not a photo"),
        (SimpleUploadedFile("page.html", PNG, content_type="text/html"), "is not a photo"),
        (
            SimpleUploadedFile("big.jpg", JPEG + b"\x00" * MAX_PHOTO_BYTES, content_type="image/jpeg"),
            "is larger than 5 MB",
        ),
    ],
    ids=["disguised", "pdf", "html-type", "too-large"],
)
def test_it_rejects_a_bad_photo_and_writes_nothing(client, form_data, upload, message):
    form_data["photos"] = [SimpleUploadedFile("ok.png", PNG, content_type="image/png"), upload]

    response = client.post(reverse("appeals:new"), form_data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Petition.objects.count() == 0
    assert PetitionPhoto.objects.count() == 0


def test_it_rejects_more_than_five_photos(client, form_data):
    form_data["photos"] = [SimpleUploadedFile(f"{i}.png", PNG, content_type="image/png") for i in range(6)]

    response = client.post(reverse("appeals:new"), form_data)

    assert "at most 5 photos" in response.content.decode()
    assert Petition.objects.count() == 0


def test_tracking_with_the_right_phone_shows_a_resident_safe_status(client, submit, grid_worker_a):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)

    response = client.post(
        reverse("appeals:track"), {"tracking_no": petition.tracking_no, "contact_phone": "13800138000"}, follow=True
    )

    body = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("appeals:track_status", args=[petition.tracking_no])
    assert petition.title in body
    assert "Accepted" in body
    assert "grid_a" not in body  # no staff names on the resident's timeline


def test_a_wrong_phone_and_an_unknown_number_give_the_same_message(client, submit):
    petition = submit()

    wrong_phone = client.post(
        reverse("appeals:track"), {"tracking_no": petition.tracking_no, "contact_phone": "13900000000"}
    )
    unknown = client.post(reverse("appeals:track"), {"tracking_no": "000000000000", "contact_phone": "13800138000"})

    assert wrong_phone.status_code == unknown.status_code == 400
    assert NOT_FOUND in wrong_phone.content.decode()
    assert NOT_FOUND in unknown.content.decode()
    assert petition.title not in wrong_phone.content.decode()


def test_the_status_page_is_not_shown_without_proof(client, submit):
    petition = submit()

    response = client.get(reverse("appeals:track_status", args=[petition.tracking_no]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("appeals:track"))


@pytest.fixture
def resolved(submit, grid_worker_a):
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已联系环卫清运。")
    return petition


def _track(client, petition):
    client.post(reverse("appeals:track"), {"tracking_no": petition.tracking_no, "contact_phone": "13800138000"})


def test_a_resident_rates_a_resolved_petition_from_the_track_page(client, resolved):
    _track(client, resolved)
    page = client.get(reverse("appeals:track_status", args=[resolved.tracking_no]))
    assert "已联系环卫清运。" in page.content.decode()
    assert 'name="rating"' in page.content.decode()

    response = client.post(reverse("appeals:track_rate", args=[resolved.tracking_no]), {"rating": "satisfied"})

    assert response.status_code == 302
    resolved.refresh_from_db()
    assert resolved.rating == "satisfied"
    assert resolved.status == Status.CLOSED


def test_an_unsatisfied_resident_reopens_the_petition(client, resolved):
    _track(client, resolved)
    client.post(reverse("appeals:track_rate", args=[resolved.tracking_no]), {"rating": "unsatisfied"})

    response = client.post(reverse("appeals:track_reopen", args=[resolved.tracking_no]), {"reason": "垃圾又堆起来了"})

    assert response.status_code == 302
    resolved.refresh_from_db()
    assert resolved.status == Status.ASSIGNED
    assert resolved.reopen_count == 1


def test_reopening_needs_a_reason(client, resolved):
    _track(client, resolved)

    response = client.post(reverse("appeals:track_reopen", args=[resolved.tracking_no]), {"reason": ""})

    assert response.status_code == 400
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED


def test_rating_needs_proof_of_the_phone(client, resolved):
    response = client.post(reverse("appeals:track_rate", args=[resolved.tracking_no]), {"rating": "satisfied"})

    assert response.status_code == 302
    resolved.refresh_from_db()
    assert resolved.rating == ""


def test_my_petitions_needs_a_login(client):
    response = client.get(reverse("appeals:mine"))

    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_the_track_page_and_the_api_show_the_same_masked_view(client, submit, grid_worker_a):
    petition = submit(description="我是王小明，电话139 1234 2468，身份证370202199001011234")
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    petition_note_progress(petition_id=petition.pk, actor=grid_worker_a, note="内部备注：等环卫站回复")
    petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已处理，如有问题请拨打0532-88886666")
    _track(client, petition)

    page = client.get(reverse("appeals:track_status", args=[petition.tracking_no])).content.decode()
    api = client.get("/api/v1/track/", {"tracking_no": petition.tracking_no, "phone": "13800138000"}).json()

    petition.refresh_from_db()
    view = petition_resident_view(petition)
    assert api["description"] == view.description == "我是王**，电话139******68，身份证370*************34"
    assert api["reply"] == view.reply == "已处理，如有问题请拨打053*******66"
    for text in (view.description, view.reply):
        assert text in page
    for secret in ("王小明", "139 1234 2468", "370202199001011234", "88886666", "内部备注"):
        assert secret not in page and secret not in str(api)
    shown = [event["type_display"] for event in api["timeline"]]
    assert shown == [str(event.get_type_display()) for event in view.timeline]
    assert all(label in page for label in shown)
    assert "progress" not in {event["type"] for event in api["timeline"]}
