import pytest

from appeals.models import Channel, EventType, Petition, Status
from appeals.services import petition_submit
from governance.errors import DomainError


def test_it_stores_the_petition_with_a_tracking_number_and_a_submitted_event(submit):
    petition = submit(route=False)
    assert petition.status == Status.SUBMITTED
    assert len(petition.tracking_no) == 12 and petition.tracking_no.isdigit()
    assert list(petition.events.values_list("type", flat=True)) == [EventType.SUBMITTED]


def test_it_returns_the_first_petition_for_a_repeated_idempotency_key(submit):
    first = submit(route=False, idempotency_key="k-1")
    again = petition_submit(
        channel=Channel.MOBILE, title="x", description="y", contact_phone="13800138000", idempotency_key="k-1"
    )
    assert again.created is False and again.petition.pk == first.pk
    assert Petition.objects.count() == 1


def test_it_rejects_bad_input_with_field_messages_and_stores_nothing(tree, category):
    with pytest.raises(DomainError) as caught:
        petition_submit(channel=Channel.MOBILE, title="", description="", contact_phone="12345", lon=120.0)
    fields = caught.value.extra["fields"]
    assert {"title", "description", "contact_phone", "location"} <= set(fields)
    assert Petition.objects.count() == 0


def test_it_refuses_a_top_level_class_as_category(tree, category):
    with pytest.raises(DomainError) as caught:
        petition_submit(
            channel=Channel.MOBILE, title="t", description="d", contact_phone="13800138000", category=category.parent
        )
    assert "category" in caught.value.extra["fields"]


def test_it_enqueues_routing_only_after_commit(submit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        submit(route=False)
    assert len(callbacks) == 1


def test_it_accepts_a_mobile_written_in_groups(tree, category):
    submission = petition_submit(channel=Channel.MOBILE, title="t", description="d", contact_phone="138-0013-8000")
    assert submission.petition.contact_phone == "13800138000"


def test_it_refuses_overlong_names_and_addresses_with_field_messages(tree):
    with pytest.raises(DomainError) as caught:
        petition_submit(
            channel=Channel.MOBILE,
            title="t",
            description="d",
            contact_phone="13800138000",
            contact_name="名" * 51,
            address="路" * 201,
        )
    assert {"contact_name", "address"} <= set(caught.value.extra["fields"])


@pytest.mark.parametrize("spelling", ["138-0013-8000", "+86 138 0013 8000", "１３８００１３８０００"])
def test_tracking_finds_the_petition_whatever_the_spelling_of_the_phone(submit, spelling):
    from rest_framework.test import APIClient

    from appeals.services.tracking import petition_track_lookup

    petition = submit(contact_phone="13800138000")

    found = petition_track_lookup(tracking_no=petition.tracking_no, contact_phone=spelling, client="127.0.0.1")
    assert found == petition
    response = APIClient().get("/api/v1/track/", {"tracking_no": petition.tracking_no, "phone": spelling})
    assert response.status_code == 200
