"""Open311 GeoReport v2: services, submission with an api_key, the public request list."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import jsonschema
import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from appeals import open311
from appeals.models import Category, CategoryKind, Channel, EventType, Petition
from appeals.selectors import categories_for_intake
from appeals.services import petition_accept, petition_handle, petition_reply
from governance.models import ApiClient, Role
from residents.models import House
from tests.appeals.conftest import POINT_A
from tests.factories import make_user

BASE = "/open311/v2"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _english(settings):
    # The assertions read the English error descriptions; clients get their Accept-Language.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def api_key(db) -> str:
    _client, key = ApiClient.create_with_key(name="市民通")
    return key


@pytest.fixture
def services(category):
    """Besides `category` (T0101): an inactive sub-class and a class, neither offered as a service."""
    Category.objects.create(
        code="T0102", name="乱堆物料", kind=CategoryKind.EVENT, parent=category.parent, is_active=False
    )
    Category.objects.create(code="T02", name="设施管理", kind=CategoryKind.COMPONENT)
    return category


def fixmystreet_form(api_key: str, /, **overrides: str) -> dict[str, str]:
    """The fields a FixMyStreet-style client posts."""
    form = {
        "api_key": api_key,
        "service_code": "T0101",
        "lat": str(POINT_A[1]),
        "long": str(POINT_A[0]),
        "description": "幸福路12号院门口垃圾三天没人清运，气味很大。",
        "email": "li.ming@example.com",
        "first_name": "明",
        "last_name": "李",
        "phone": "13800138000",
        "media_url": "https://photos.example.com/a.jpg",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def post(client: Client, fmt: str, form: dict[str, str], *, query: str = "", **headers: str):
    url = f"{BASE}/requests.{fmt}" + (f"?{query}" if query else "")
    return client.post(url, data=urlencode(form), content_type=FORM, **headers)


def get(client: Client, path: str, **params: str):
    return client.get(f"{BASE}/{path}" + (f"?{urlencode(params)}" if params else ""))


def xml_items(response) -> list[dict[str, str | None]]:
    return [{child.tag: child.text for child in item} for item in ET.fromstring(response.content)]


def xml_errors(response) -> list[tuple[str, str]]:
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    return [(error.findtext("code"), error.findtext("description")) for error in root.findall("error")]


# --- services --------------------------------------------------------------------------------------


def test_it_lists_active_subclasses_as_services_in_json(client, services, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = get(client, "services.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    listed = {service["service_code"]: service for service in response.json()}
    assert len(listed) == categories_for_intake().count() + 1  # and the catch-all "other"
    assert listed["other"]["service_name"] == "Other"
    assert "T0102" not in listed and "T01" not in listed and "T02" not in listed
    assert listed["T0101"] == {
        "service_code": "T0101",
        "service_name": "测试暴露垃圾",
        "description": "",
        "metadata": False,
        "type": "realtime",
        "keywords": "测试市容环境, 测试暴露垃圾",
        "group": "测试市容环境",
    }


def test_it_lists_services_in_xml(client, services):
    response = get(client, "services.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "services" and {child.tag for child in root} == {"service"}
    listed = {item["service_code"]: item for item in xml_items(response)}
    assert "T0102" not in listed
    assert listed["T0101"] == {
        "service_code": "T0101",
        "service_name": "测试暴露垃圾",
        "description": None,
        "metadata": "false",
        "type": "realtime",
        "keywords": "测试市容环境, 测试暴露垃圾",
        "group": "测试市容环境",
    }


def test_it_gives_a_service_definition_in_json_and_xml(client, services):
    assert get(client, "services/T0101.json").json() == {"service_code": "T0101", "attributes": []}
    root = ET.fromstring(get(client, "services/T0101.xml").content)
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "T0101" and root.find("attributes") is not None


@pytest.mark.parametrize("code", ["9999", "T0102", "T01"])
def test_it_answers_404_for_a_service_it_does_not_offer(client, services, code):
    response = get(client, f"services/{code}.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": f"Unknown service_code {code}."}]
    response = get(client, f"services/{code}.xml")
    assert response.status_code == 404
    assert xml_errors(response) == [("404", f"Unknown service_code {code}.")]


def test_it_refuses_other_methods_in_the_spec_error_format(client, services):
    response = client.post(f"{BASE}/services.json")
    assert response.status_code == 405
    assert response.json()[0]["code"] == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"


# --- jurisdiction ----------------------------------------------------------------------------------


def test_it_treats_an_empty_jurisdiction_id_as_absent(client, services, api_key):
    assert get(client, "services.json", jurisdiction_id="").status_code == 200
    assert post(client, "json", fixmystreet_form(api_key, jurisdiction_id="")).status_code == 201


def test_it_accepts_its_own_jurisdiction_id(client, services, api_key, settings):
    settings.OPEN311_JURISDICTION_ID = "example.city"
    assert get(client, "services.json", jurisdiction_id="example.city").status_code == 200
    assert post(client, "json", fixmystreet_form(api_key, jurisdiction_id="example.city")).status_code == 201


def test_it_answers_404_for_another_jurisdiction(client, services, api_key):
    response = get(client, "services.xml", jurisdiction_id="sfgov.org")
    assert response.status_code == 404
    assert xml_errors(response) == [("404", "Unknown jurisdiction_id sfgov.org.")]
    assert get(client, "requests.json", jurisdiction_id="sfgov.org").status_code == 404
    response = post(client, "json", fixmystreet_form(api_key, jurisdiction_id="sfgov.org"))
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "Unknown jurisdiction_id sfgov.org."}]
    assert not Petition.objects.exists()


# --- POST requests ---------------------------------------------------------------------------------


def test_it_creates_a_petition_from_a_form_encoded_post(client, tree, services, api_key):
    response = post(client, "json", fixmystreet_form(api_key, address_string="幸福路12号"))
    assert response.status_code == 201
    [reply] = response.json()
    assert set(reply) == {"service_request_id", "service_notice", "account_id"}
    assert reply["account_id"] is None and reply["service_notice"]
    petition = Petition.objects.get(tracking_no=reply["service_request_id"])
    assert petition.channel == Channel.OPEN311
    assert petition.category == services
    assert (petition.lon, petition.lat) == POINT_A
    assert petition.address == "幸福路12号"
    assert petition.contact_phone == "13800138000"
    assert petition.contact_name == "李明"  # family name first, no space between Chinese parts
    assert petition.title == "测试暴露垃圾：幸福路12号院门口垃圾三天没人清运，气味很大。"
    # What has no column stays where staff can read it.
    assert petition.description.startswith("幸福路12号院门口垃圾三天没人清运")
    assert "media_url: https://photos.example.com/a.jpg" in petition.description
    assert "email: li.ming@example.com" in petition.description
    event = petition.events.get()
    assert (event.type, event.actor_label) == (EventType.SUBMITTED, "市民通")


def test_it_answers_a_post_in_xml(client, services, api_key):
    response = post(client, "xml", fixmystreet_form(api_key, account_id="u-42"))
    assert response.status_code == 201
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    [item] = xml_items(response)
    assert Petition.objects.filter(tracking_no=item["service_request_id"]).exists()
    assert item["account_id"] == "u-42"
    assert set(item) == {"service_request_id", "service_notice", "account_id"}


def test_it_takes_the_api_key_from_the_query_string(client, services, api_key):
    form = fixmystreet_form(api_key)
    del form["api_key"]
    response = post(client, "json", form, query=urlencode({"api_key": api_key}))
    assert response.status_code == 201


def test_it_needs_no_csrf_token(services, api_key):
    response = post(Client(enforce_csrf_checks=True), "json", fixmystreet_form(api_key))
    assert response.status_code == 201


@pytest.mark.parametrize("key", [None, "", "not-a-key"])
def test_it_rejects_a_missing_or_wrong_api_key_with_403(client, services, api_key, key):
    response = post(client, "json", fixmystreet_form(api_key, api_key=key))
    assert response.status_code == 403
    assert response.json() == [{"code": 403, "description": "A valid api_key is required to submit a service request."}]
    response = post(client, "xml", fixmystreet_form(api_key, api_key=key))
    assert response.status_code == 403
    assert xml_errors(response)[0][0] == "403"
    assert not Petition.objects.exists()


def test_it_rejects_the_key_of_a_deactivated_client(client, services, api_key):
    ApiClient.objects.update(is_active=False)
    assert post(client, "json", fixmystreet_form(api_key)).status_code == 403


def test_it_records_when_a_client_last_used_its_key(client, services, api_key):
    post(client, "json", fixmystreet_form(api_key))
    assert ApiClient.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"service_code": None}, "service_code is required."),
        ({"service_code": "9999"}, "Unknown service_code 9999."),
        ({"service_code": "T0102"}, "Unknown service_code T0102."),
        ({"lat": None, "long": None}, "A location is required: lat and long, address_string or address_id."),
        ({"long": None}, "Give both lat and long, or neither."),
        ({"lat": "north"}, "lat must be a number between -90 and 90."),
        ({"long": "200"}, "long must be a number between -180 and 180."),
        ({"lat": "nan"}, "lat must be a number between -90 and 90."),
        ({"address_id": "NO-SUCH-DOOR"}, "Unknown address_id NO-SUCH-DOOR."),
        ({"description": "长" * 2001}, "description can be at most 1918 characters."),
        ({"media_url": "https://x/" + "a" * 600}, "media_url can be at most 500 characters."),
    ],
)
def test_it_rejects_an_invalid_request_with_400(client, services, api_key, overrides, message):
    response = post(client, "json", fixmystreet_form(api_key, **overrides))
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": message}]
    response = post(client, "xml", fixmystreet_form(api_key, **overrides))
    assert response.status_code == 400
    assert xml_errors(response) == [("400", message)]
    assert not Petition.objects.exists()


def test_it_accepts_an_address_string_instead_of_a_point(client, services, api_key):
    response = post(client, "json", fixmystreet_form(api_key, lat=None, long=None, address_string="幸福路12号"))
    assert response.status_code == 201
    petition = Petition.objects.get()
    assert petition.lon is None and petition.address == "幸福路12号"


def test_it_resolves_an_address_id_to_the_house_with_that_doorplate(client, tree, services, api_key):
    House.objects.create(address="幸福路12号", doorplate_code="QR-0001", microgrid=tree["DS0C0G0M0"])
    response = post(client, "json", fixmystreet_form(api_key, lat=None, long=None, address_id="QR-0001"))
    assert response.status_code == 201
    assert Petition.objects.get().address == "幸福路12号"


def test_it_falls_back_to_the_service_name_without_a_description(client, services, api_key):
    assert post(client, "json", fixmystreet_form(api_key, description=None)).status_code == 201
    petition = Petition.objects.get()
    assert petition.title == "测试暴露垃圾"
    assert petition.description.startswith("测试暴露垃圾")


def test_it_keeps_a_phone_it_cannot_use_for_staff_instead_of_refusing(client, services, api_key):
    assert post(client, "json", fixmystreet_form(api_key, phone="+1 415 555 0100")).status_code == 201
    petition = Petition.objects.get()
    assert petition.contact_phone == ""
    assert "phone: +1 415 555 0100" in petition.description


def test_it_normalises_a_usable_phone(client, services, api_key):
    assert post(client, "json", fixmystreet_form(api_key, phone="+86 138 0013 8000")).status_code == 201
    assert Petition.objects.get().contact_phone == "13800138000"


def test_it_makes_a_post_with_the_same_idempotency_key_return_the_first_petition(client, services, api_key):
    first = post(client, "json", fixmystreet_form(api_key), HTTP_X_IDEMPOTENCY_KEY="abc-1")
    again = post(client, "json", fixmystreet_form(api_key), HTTP_X_IDEMPOTENCY_KEY="abc-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert Petition.objects.count() == 1


def test_it_keeps_idempotency_keys_of_different_clients_apart(client, services, api_key):
    _other, other_key = ApiClient.create_with_key(name="另一个应用")
    post(client, "json", fixmystreet_form(api_key), HTTP_X_IDEMPOTENCY_KEY="abc-1")
    post(client, "json", fixmystreet_form(other_key), HTTP_X_IDEMPOTENCY_KEY="abc-1")
    post(client, "json", fixmystreet_form(api_key))
    post(client, "json", fixmystreet_form(api_key))
    assert Petition.objects.count() == 4


def test_it_rejects_an_overlong_idempotency_key(client, services, api_key):
    response = post(client, "json", fixmystreet_form(api_key), HTTP_X_IDEMPOTENCY_KEY="k" * 65)
    assert response.status_code == 400


# --- GET requests ----------------------------------------------------------------------------------


def submitted_through_open311(client, api_key, **overrides) -> Petition:
    response = post(client, "json", fixmystreet_form(api_key, **overrides))
    assert response.status_code == 201, response.content
    return Petition.objects.get(tracking_no=response.json()[0]["service_request_id"])


def test_it_lists_requests_in_json_with_the_spec_fields(client, submit, tree):
    petition = submit()
    response = get(client, "requests.json")
    assert response.status_code == 200
    [item] = response.json()
    local = timezone.localtime(petition.created_at).isoformat(timespec="seconds")
    assert item == {
        "service_request_id": petition.tracking_no,
        "status": "open",
        "status_notes": None,
        "service_name": "测试暴露垃圾",
        "service_code": "T0101",
        "description": "幸福路12号院门口垃圾三天没人清运，气味很大。",
        "agency_responsible": tree["DS0C0G0"].name,
        "service_notice": None,
        "requested_datetime": local,
        "updated_datetime": timezone.localtime(petition.updated_at).isoformat(timespec="seconds"),
        "expected_datetime": timezone.localtime(petition.deadline_at).isoformat(timespec="seconds"),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": POINT_A[1],
        "long": POINT_A[0],
        "media_url": None,
    }
    assert local.endswith("+08:00")


def test_it_lists_requests_in_xml(client, submit):
    petition = submit()
    response = get(client, "requests.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests" and [child.tag for child in root] == ["request"]
    [item] = xml_items(response)
    assert item["service_request_id"] == petition.tracking_no
    assert item["status"] == "open" and item["zipcode"] is None
    assert item["long"] == str(POINT_A[0]) and item["requested_datetime"].endswith("+08:00")


def test_it_shows_no_personal_data(client, services, api_key, submit):
    submit(description="我的电话13912345678，身份证370202199001011234，请联系。")
    submitted_through_open311(client, api_key, account_id="acct-7", device_id="dev-9", phone="+1 415 555 0100")
    for fmt in ("json", "xml"):
        body = get(client, f"requests.{fmt}").content.decode()
        for secret in ("13800138000", "13912345678", "370202199001011234", "li.ming", "李", "明", "acct-7", "dev-9"):
            assert secret not in body, (fmt, secret)
        assert "+1 415" not in body and "[Open311]" not in body
    masked = {item["description"] for item in get(client, "requests.json").json()}
    assert "我的电话139******78，身份证370*************34，请联系。" in masked


SECRETS_IN_TEXT = [
    ("请联系我139 1234 2468", "139 1234 2468"),
    ("电话139-1234-2468", "139-1234-2468"),
    ("电话+8613912342468", "13912342468"),
    ("座机0532-88886666", "88886666"),
    ("电话（0532）88886666", "88886666"),
    ("手机１３９１２３４２４６８", "１３９１２３４２４６８"),
    ("身份证 370202 19900101 1234", "19900101"),
    ("我是王小明，门口有垃圾", "王小明"),
]


@pytest.mark.parametrize(("description", "secret"), SECRETS_IN_TEXT)
def test_it_masks_personal_data_in_every_format(client, submit, grid_worker_a, description, secret):
    petition = submit(description=description)
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply=f"已回复：{description}")
    for path in ("requests.json", "requests.xml", f"requests/{petition.tracking_no}.json"):
        body = get(client, path).content.decode()
        assert secret not in body and "*" in body, path


def test_it_generalises_the_address_and_rounds_the_point(client, tree, services, api_key):
    House.objects.create(address="幸福路12号3单元502", doorplate_code="QR-0002", microgrid=tree["DS0C0G0M0"])
    submitted_through_open311(client, api_key, address_id="QR-0002", lat="36.005123", long="120.005987")
    [item] = get(client, "requests.json").json()
    assert item["address"] == "幸福路" and item["address_id"] is None
    assert (item["lat"], item["long"]) == (36.005, 120.006)
    assert "502" not in get(client, "requests.xml").content.decode()


def test_an_address_without_a_road_falls_back_to_the_community(client, submit, tree):
    submit(address="3号楼2单元502")
    [item] = get(client, "requests.json").json()
    assert item["address"] == tree["DS0C0"].name


def test_uncategorised_requests_carry_the_catch_all_service(client, submit, services, api_key):
    unclassified = submit(category=None)
    [item] = get(client, "requests.json", service_code="other").json()
    assert item["service_request_id"] == unclassified.tracking_no and item["service_code"] == "other"
    assert get(client, "services/other.json").json() == {"service_code": "other", "attributes": []}
    response = post(client, "json", fixmystreet_form(api_key, service_code="other"))
    assert response.status_code == 201, response.content
    assert Petition.objects.get(tracking_no=response.json()[0]["service_request_id"]).category is None


def test_it_gives_back_the_media_url_and_the_description_without_what_it_stored_beside(client, services, api_key):
    submitted_through_open311(client, api_key)
    [item] = get(client, "requests.json").json()
    assert item["media_url"] == "https://photos.example.com/a.jpg"
    assert item["description"] == "幸福路12号院门口垃圾三天没人清运，气味很大。"


def test_it_does_not_cut_a_description_where_a_resident_typed_the_marker(client, submit):
    submit(description="看这里\n\n[Open311]\n不是我们的块")
    [item] = get(client, "requests.json").json()
    assert item["description"] == "看这里\n\n[Open311]\n不是我们的块"


def test_it_maps_resolved_petitions_to_closed_and_shows_the_reply(client, submit, grid_worker_a):
    open_one = submit()
    resolved = submit(point=(120.005, 36.006))
    petition_accept(petition_id=resolved.pk, actor=grid_worker_a)
    petition_handle(petition_id=resolved.pk, actor=grid_worker_a)
    petition_reply(petition_id=resolved.pk, actor=grid_worker_a, reply="已联系环卫清运。")
    by_id = {item["service_request_id"]: item for item in get(client, "requests.json").json()}
    assert by_id[open_one.tracking_no]["status"] == "open"
    assert by_id[resolved.tracking_no]["status"] == "closed"
    assert by_id[resolved.tracking_no]["status_notes"] == "已联系环卫清运。"
    closed = get(client, "requests.json", status="closed").json()
    assert [item["service_request_id"] for item in closed] == [resolved.tracking_no]
    opened = get(client, "requests.xml", status="open")
    assert [item["service_request_id"] for item in xml_items(opened)] == [open_one.tracking_no]
    assert len(get(client, "requests.json", status="open,closed").json()) == 2


def test_it_counts_unrouted_and_merged_states_correctly():
    assert open311.CLOSED_STATUSES == {"resolved", "closed", "merged"}


def test_it_rejects_an_unknown_status_filter(client, submit):
    response = get(client, "requests.json", status="pending")
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400


def test_it_filters_by_service_code(client, submit, services):
    other = Category.objects.create(code="T0103", name="道路破损", kind=CategoryKind.EVENT, parent=services.parent)
    first = submit()
    second = submit(category=other)
    assert [i["service_request_id"] for i in get(client, "requests.json", service_code="T0103").json()] == [
        second.tracking_no
    ]
    both = get(client, "requests.json", service_code="T0101,T0103").json()
    assert {i["service_request_id"] for i in both} == {first.tracking_no, second.tracking_no}
    assert get(client, "requests.json", service_code="T0103", status="closed").json() == []


def test_it_defaults_to_the_last_90_days(client, submit):
    recent = submit()
    old = submit(created_at=timezone.now() - timedelta(days=91))
    assert [i["service_request_id"] for i in get(client, "requests.json").json()] == [recent.tracking_no]
    # A start date alone: the 90 days from it.
    start = (timezone.now() - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [i["service_request_id"] for i in get(client, "requests.json", start_date=start).json()] == [old.tracking_no]


def test_date_stepping_cannot_walk_the_archive(client, submit):
    now = timezone.now()
    wide = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    assert get(client, "requests.json", **wide).json() == [
        {"code": 400, "description": "start_date and end_date may not span more than 90 days."}
    ]
    old = submit(created_at=now - timedelta(days=400))
    start = (now - timedelta(days=410)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = get(client, "requests.json", start_date=start)
    assert response.status_code == 400 and old.tracking_no not in response.content.decode()
    # Asked for by its number, an old request is still there.
    assert get(client, "requests.json", service_request_id=old.tracking_no).json()[0]["service_request_id"]


def test_it_filters_by_a_date_window(client, submit):
    now = timezone.now()
    submit(created_at=now - timedelta(days=10))
    middle = submit(created_at=now - timedelta(days=5))
    submit(created_at=now - timedelta(days=1))
    window = {
        "start_date": (now - timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    found = get(client, "requests.json", **window).json()
    assert [i["service_request_id"] for i in found] == [middle.tracking_no]
    # Only an end date: the 90 days before it.
    found = get(client, "requests.json", end_date=window["end_date"]).json()
    assert len(found) == 2


def test_it_reads_offsets_dates_and_an_unencoded_plus(client, submit):
    petition = submit()
    day = timezone.localtime(petition.created_at).date()
    for query in (
        f"start_date={day.isoformat()}T00:00:00%2B08:00",
        f"start_date={day.isoformat()}T00:00:00+08:00",  # "+" decodes to a space
        f"start_date={day.isoformat()}&end_date={day.isoformat()}",
    ):
        found = client.get(f"{BASE}/requests.json?{query}").json()
        assert [i["service_request_id"] for i in found] == [petition.tracking_no], query


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2024-13-45T00:00:00Z"},
        {"start_date": "2024-05-02T00:00:00Z", "end_date": "2024-05-01T00:00:00Z"},
    ],
)
def test_it_rejects_bad_dates_with_400(client, db, params):
    response = get(client, "requests.xml", **params)
    assert response.status_code == 400
    assert xml_errors(response)[0][0] == "400"


def test_it_lets_service_request_ids_override_every_other_filter(client, submit):
    old = submit(created_at=timezone.now() - timedelta(days=400))
    other = submit()
    submit()
    ids = f"{old.tracking_no},{other.tracking_no},nonexistent"
    found = get(client, "requests.json", service_request_id=ids, status="closed", service_code="9999").json()
    assert {i["service_request_id"] for i in found} == {old.tracking_no, other.tracking_no}


def test_it_pages_the_list_within_bounds(client, submit, monkeypatch):
    assert (open311.MAX_REQUESTS, open311.MAX_PAGE_SIZE) == (1000, 100)
    petitions = [submit(route=False) for _ in range(5)]
    newest_first = [p.tracking_no for p in reversed(petitions)]
    assert [i["service_request_id"] for i in get(client, "requests.json", page_size="2").json()] == newest_first[:2]
    second = get(client, "requests.json", page_size="2", page="2").json()
    assert [i["service_request_id"] for i in second] == newest_first[2:4]
    assert len(xml_items(get(client, "requests.xml", page_size="2", page="3"))) == 1
    monkeypatch.setattr(open311, "MAX_PAGE_SIZE", 3)
    assert len(get(client, "requests.json", page_size="100").json()) == 3
    monkeypatch.undo()
    # No page reaches past MAX_REQUESTS into one search.
    assert get(client, "requests.json", page="11", page_size="100").status_code == 400
    for bad in ({"page": "0"}, {"page_size": "-1"}, {"page": "x"}, {"page_size": "99999999999999999999"}):
        assert get(client, "requests.json", **bad).status_code == 400, bad


def test_a_private_list_needs_an_api_key(client, submit, api_key, settings):
    petition = submit()
    settings.OPEN311_PUBLIC_REQUESTS = False
    for path in ("requests.json", f"requests/{petition.tracking_no}.json"):
        response = get(client, path)
        assert response.status_code == 403
        assert response.json() == [
            {"code": 403, "description": "A valid api_key is required to read service requests."}
        ]
        assert get(client, path, api_key=api_key).status_code == 200
    assert get(client, "services.json").status_code == 200


def test_the_list_reads_in_one_query_however_many_requests(client, submit, django_assert_num_queries):
    for _ in range(4):
        submit()
    with django_assert_num_queries(1):
        assert len(get(client, "requests.json").json()) == 4


def test_it_gives_one_request_as_a_one_element_list(client, submit):
    petition = submit()
    found = get(client, f"requests/{petition.tracking_no}.json").json()
    assert isinstance(found, list) and [i["service_request_id"] for i in found] == [petition.tracking_no]
    root = ET.fromstring(get(client, f"requests/{petition.tracking_no}.xml").content)
    assert root.tag == "service_requests" and len(root) == 1
    assert root.find("request").findtext("service_request_id") == petition.tracking_no


def test_it_answers_404_for_an_unknown_request(client, db):
    response = get(client, "requests/000000000000.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "Unknown service_request_id 000000000000."}]
    assert xml_errors(get(client, "requests/000000000000.xml")) == [("404", "Unknown service_request_id 000000000000.")]


def test_it_escapes_text_in_xml(client, submit):
    submit(description='垃圾 <b>&"quoted"</b>\x01 堆积')
    [item] = xml_items(get(client, "requests.xml"))
    assert item["description"] == '垃圾 <b>&"quoted"</b> 堆积'


def test_a_submitted_request_shows_up_in_the_list(client, services, api_key):
    petition = submitted_through_open311(client, api_key)
    found = get(client, f"requests/{petition.tracking_no}.json").json()
    assert found[0]["service_code"] == "T0101" and found[0]["status"] == "open"


# --- API keys --------------------------------------------------------------------------------------


def test_it_stores_only_a_hash_of_the_key(db):
    client, key = ApiClient.create_with_key(name="市民通")
    client.refresh_from_db()
    assert key not in {client.key_hash, client.key_prefix} and client.key_hash == ApiClient.hash_key(key)
    assert key.startswith(client.key_prefix)


def test_the_command_prints_a_working_key(client, services):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", "命令行应用", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert ApiClient.objects.get(name="命令行应用").key_hash == ApiClient.hash_key(key)
    assert post(client, "json", fixmystreet_form(key)).status_code == 201
    call_command("create_api_key", "命令行应用", "--rotate", stdout=(rotated := io.StringIO()), stderr=err)
    assert post(client, "json", fixmystreet_form(key)).status_code == 403
    assert post(client, "json", fixmystreet_form(rotated.getvalue().strip())).status_code == 201


def test_an_administrator_sees_the_key_once_after_adding_a_client(client, administrator):
    client.force_login(administrator)
    response = client.post("/admin/governance/apiclient/add/", {"name": "新应用", "is_active": "on"})
    assert response.status_code == 302
    created = ApiClient.objects.get(name="新应用")
    shown = [str(m) for m in get_messages(response.wsgi_request) if created.key_prefix in str(m)]
    [key] = re.findall(re.escape(created.key_prefix) + r"[\w-]*", shown[0])
    assert created.key_hash == ApiClient.hash_key(key)


def test_other_staff_cannot_open_api_clients_in_the_admin(client, tree):
    secretary = make_user("staffer", role=Role.COMMUNITY_SECRETARY, area=tree["DS0C0"], is_staff=True)
    client.force_login(secretary)
    assert client.get("/admin/governance/apiclient/").status_code == 403
    assert client.get("/admin/governance/apiclient/add/").status_code == 403


def test_json_is_utf8_not_escaped(client, services):
    body = get(client, "services.json").content.decode()
    assert "测试暴露垃圾" in body
    assert "T0101" in {service["service_code"] for service in json.loads(body)}


# --- GeoReport v2 schemas ----------------------------------------------------------------------------

SCHEMAS = Path(__file__).parent / "georeport_v2"


def validate(response, schema: str) -> None:
    jsonschema.validate(response.json(), json.loads((SCHEMAS / schema).read_text()))


def test_every_answer_validates_against_the_georeport_v2_schemas(client, submit, services, api_key, grid_worker_a):
    unclassified = submit(category=None, address="幸福小区3号楼", description="电话13912342468")
    resolved = submit()
    petition_accept(petition_id=resolved.pk, actor=grid_worker_a)
    petition_handle(petition_id=resolved.pk, actor=grid_worker_a)
    petition_reply(petition_id=resolved.pk, actor=grid_worker_a, reply="已处理")
    submit(point=None, route=False, address="幸福路12号")
    validate(get(client, "services.json"), "services.json")
    validate(get(client, "services/T0101.json"), "service_definition.json")
    validate(get(client, "services/other.json"), "service_definition.json")
    listed = get(client, "requests.json")
    validate(listed, "requests.json")
    assert len(listed.json()) == 3
    validate(get(client, f"requests/{unclassified.tracking_no}.json"), "request.json")
    validate(get(client, "requests.json", service_request_id=resolved.tracking_no), "requests.json")
    validate(post(client, "json", fixmystreet_form(api_key)), "post_response.json")
    validate(post(client, "json", fixmystreet_form(api_key, service_code="other", account_id="")), "post_response.json")
    for error in (
        get(client, "requests/000000000000.json"),
        get(client, "services/NOPE.json"),
        get(client, "requests.json", status="pending"),
        get(client, "requests.json", page="0"),
        post(client, "json", fixmystreet_form("wrong")),
        client.delete(f"{BASE}/requests.json"),
    ):
        assert error.status_code >= 400
        validate(error, "errors.json")


def test_the_schemas_catch_what_the_spec_forbids():
    item = {"service_request_id": "1", "status": "open", "service_code": None, "requested_datetime": "x"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([item], json.loads((SCHEMAS / "requests.json").read_text()))


def test_xml_carries_the_same_fields_as_json(client, submit, services):
    submit(category=None)
    [as_json] = get(client, "requests.json").json()
    [as_xml] = xml_items(get(client, "requests.xml"))
    assert set(as_xml) == set(as_json) and as_xml["service_code"] == "other"
    assert {item["service_code"] for item in xml_items(get(client, "services.xml"))} >= {"T0101", "other"}
