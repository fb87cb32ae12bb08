"""Who sees what in the finder: scoping, masking by role, the access log, policies and contacts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from governance.models import AccessLog, AccessReason, Role
from governance.privacy import mask_name, mask_phone, mask_text
from residents.finder import FinderQuery, finder_residents
from residents.models import Policy, PolicyContact, Resident
from tests.factories import make_department, make_user
from tests.residents.finder_data import build_finder_world
from tests.residents.test_finder_counts import frozen  # noqa: F401  (fixture)

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def fworld(tree, frozen):  # noqa: F811
    return build_finder_world(tree, per_microgrid=8)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _active(fworld, **levels) -> list[Resident]:
    return [
        r
        for r in fworld.residents
        if r.status == "active" and all(getattr(r, f"{key}_id") == value.pk for key, value in levels.items())
    ]


def test_a_community_sees_only_its_own(fworld, community_secretary, tree):
    found = set(finder_residents(community_secretary, FinderQuery()).values_list("pk", flat=True))
    assert found == {r.pk for r in _active(fworld, community=tree["DS0C0"])}


def test_an_area_outside_the_subtree_is_refused(fworld, community_secretary, tree):
    client = _client(community_secretary)
    response = client.get(reverse("finder:search"), {"area": tree["DS1C0"].pk})
    assert response.status_code == 400
    response = client.get(reverse("finder:count"), {"area": tree["DS1C0"].pk})
    assert response.status_code == 400
    assert "选择一个有效的选项" in response.content.decode() or "outside" in response.content.decode()
    # And the query itself answers nothing for an area it cannot see.
    assert finder_residents(community_secretary, FinderQuery(area_id=tree["DS1C0"].pk)).count() == 0


def test_bad_input_gets_a_chinese_message(fworld, community_secretary):
    response = _client(community_secretary).get(reverse("finder:count"), {"age_min": 70, "age_max": 60})
    assert response.status_code == 400
    assert "年龄上限不能低于下限" in response.content.decode()


def test_department_staff_and_residents_are_refused(fworld, department):
    handler = make_user("handler", role=Role.DEPARTMENT_HANDLER, department=department)
    resident = make_user("someone")
    for user in (handler, resident):
        assert _client(user).get(reverse("finder:search")).status_code == 403
        assert _client(user).get(reverse("finder:count")).status_code == 403


def test_a_grid_worker_sees_names_and_phones_and_each_row_is_logged(fworld, grid_worker_a, tree):
    client = _client(grid_worker_a)
    adults = [r for r in _active(fworld, grid=tree["DS0C0G0"]) if r.age(dt.date(2026, 12, 2)) >= 18]
    target = adults[0]
    masked = client.get(reverse("finder:search"), {"q": target.house.address}).content.decode()
    assert target.phone not in masked and mask_phone(target.phone) in masked
    assert not AccessLog.objects.exists()  # masked until asked
    response = client.get(reverse("finder:search"), {"q": target.house.address, "reveal": "1"})
    assert response.status_code == 200
    body = response.content.decode()
    assert target.name in body and target.phone in body
    logged = AccessLog.objects.filter(user=grid_worker_a, reason=AccessReason.RECORD_VIEW)
    assert {row.record for row in logged} >= {f"resident:{target.pk}"}
    assert all(row.fields == "name,phone,notes" for row in logged)


def test_a_street_sees_masked_rows_and_nothing_is_logged(fworld, street_command, tree):
    target = _active(fworld, street=tree["DS0"])[0]
    response = _client(street_command).get(reverse("finder:search"), {"q": target.house.address, "reveal": "1"})
    body = response.content.decode()
    assert target.phone not in body
    assert mask_phone(target.phone) in body
    assert mask_name(target.name) in body
    assert not AccessLog.objects.filter(user=street_command).exists()


def test_minors_are_left_out_for_a_community_worker_and_shown_to_the_secretary(fworld, tree, community_secretary):
    worker = make_user("worker", role=Role.COMMUNITY_WORKER, area=tree["DS0C0"])
    minors = [r for r in _active(fworld, community=tree["DS0C0"]) if r.age(dt.date(2026, 12, 2)) < 18]
    assert minors
    minor = minors[0]
    params = {"q": minor.house.address, "reveal": "1"}
    body = _client(worker).get(reverse("finder:search"), params).content.decode()
    assert minor.phone not in body and mask_phone(minor.phone) not in body
    assert finder_residents(worker, FinderQuery(age_max=17)).count() == 0
    body = _client(community_secretary).get(reverse("finder:search"), params).content.decode()
    assert minor.phone in body


def _rows(response) -> list[tuple]:
    book = load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


def test_export_full_for_the_community_masked_for_the_street_and_always_logged(
    fworld, tree, community_secretary, street_command
):
    first = _active(fworld, community=tree["DS0C0"])[0]
    first.notes = '=HYPERLINK("http://evil")'
    Resident.objects.filter(pk=first.pk).update(notes=first.notes)
    params = {"q": first.house.address}
    full = _client(community_secretary).get(reverse("finder:export"), params)
    assert full.status_code == 200
    rows = _rows(full)
    assert rows[1][0] == "姓名"
    names = {row[0] for row in rows[2:]}
    assert first.name in names
    assert any(row[4] == first.phone for row in rows[2:])
    assert any(row[9] == "'" + first.notes for row in rows[2:])  # a formula stays text
    exported = AccessLog.objects.filter(user=community_secretary, reason=AccessReason.EXPORT)
    assert exported.count() == len(rows) - 2
    assert exported.first().fields == "name,id_number,phone,notes"

    masked = _client(street_command).get(reverse("finder:export"), params)
    rows = _rows(masked)
    assert first.name not in {row[0] for row in rows[2:]}
    assert any(row[4] == mask_phone(first.phone) for row in rows[2:])
    logged = AccessLog.objects.filter(user=street_command, reason=AccessReason.EXPORT)
    assert logged.count() == len(rows) - 2 and logged.first().fields == "masked"


def test_the_export_lists_the_residents_in_the_pages_order(fworld, tree, community_secretary):
    client = _client(community_secretary)
    params = {"age_min": 18}
    shown = [row["name"] for row in client.get(reverse("finder:search"), {**params, "reveal": "1"}).context["rows"]]
    exported = [row[0] for row in _rows(client.get(reverse("finder:export"), params))[2:]]
    assert len(shown) > 1 and exported[: len(shown)] == shown


def test_saving_a_policy_and_working_through_it(fworld, tree, community_secretary, grid_worker_a):
    client = _client(community_secretary)
    response = client.post(
        reverse("finder:policy_save"),
        {"name": "免费两癌筛查", "text": "35至64岁女性", "gender": "female", "age_min": 35, "age_max": 64},
    )
    policy = Policy.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("finder:policy", args=[policy.pk])
    assert policy.area == tree["DS0C0"] and policy.created_by == community_secretary
    assert policy.conditions == {"gender": "female", "age_min": 35, "age_max": 64}
    matching = set(
        finder_residents(community_secretary, FinderQuery(gender="female", age_min=35, age_max=64)).values_list(
            "pk", flat=True
        )
    )
    assert matching
    page = client.get(reverse("finder:policy", args=[policy.pk]))
    assert page.status_code == 200
    counts = {key: n for key, _label, n in page.context["tabs"]}
    assert counts == {"left": len(matching), "contacted": 0, "all": len(matching)}

    # The grid worker of DS0C0G0 works the community's policy for their own grid only.
    theirs = sorted(r.pk for r in _active(fworld, grid=tree["DS0C0G0"]) if r.pk in matching)
    other = sorted(matching - set(theirs))
    worker = _client(grid_worker_a)
    response = worker.post(
        reverse("finder:policy_contact", args=[policy.pk]),
        {"resident": theirs[0], "outcome": "phone", "note": "已告知"},
    )
    assert response.status_code == 302
    contact = PolicyContact.objects.get()
    assert (contact.resident_id, contact.outcome, contact.contacted_by) == (theirs[0], "phone", grid_worker_a)
    if other:
        worker.post(reverse("finder:policy_contact", args=[policy.pk]), {"resident": other[0], "outcome": "visit"})
        assert PolicyContact.objects.count() == 1  # not in their grid: refused, nothing written
    page = client.get(reverse("finder:policy", args=[policy.pk]))
    counts = {key: n for key, _label, n in page.context["tabs"]}
    assert counts == {"left": len(matching) - 1, "contacted": 1, "all": len(matching)}
    assert theirs[0] not in {row["pk"] for row in page.context["rows"]}
    # Contacts are append-only.
    with pytest.raises(TypeError):
        PolicyContact.objects.all().delete()
    with pytest.raises(TypeError):
        contact.save()


def test_a_bad_outcome_is_refused(fworld, tree, community_secretary):
    policy = Policy.objects.create(
        name="p", conditions={}, area=tree["DS0C0"], area_path=tree["DS0C0"].path, created_by=community_secretary
    )
    resident = _active(fworld, community=tree["DS0C0"])[0]
    _client(community_secretary).post(
        reverse("finder:policy_contact", args=[policy.pk]), {"resident": resident.pk, "outcome": "guess"}
    )
    assert not PolicyContact.objects.exists()


def test_policies_are_scoped(fworld, tree, community_secretary, street_command):
    other = make_user("other_secretary", role=Role.COMMUNITY_SECRETARY, area=tree["DS1C0"])
    theirs = Policy.objects.create(
        name="外社区政策", conditions={}, area=tree["DS1C0"], area_path=tree["DS1C0"].path, created_by=other
    )
    street = Policy.objects.create(
        name="街道政策", conditions={}, area=tree["DS0"], area_path=tree["DS0"].path, created_by=street_command
    )
    client = _client(community_secretary)
    listed = client.get(reverse("finder:policies")).content.decode()
    assert "街道政策" in listed and "外社区政策" not in listed
    for name in ("finder:policy", "finder:policy_export"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert client.get(reverse("finder:policy", args=[street.pk])).status_code == 200
    # The street's policy shows the community only its own residents.
    rows = client.get(reverse("finder:policy", args=[street.pk]), {"tab": "all"}).context["tabs"]
    assert dict((k, n) for k, _l, n in rows)["all"] == len(_active(fworld, community=tree["DS0C0"]))


def test_contacts_shown_on_a_policy_are_the_readers_own_with_notes_masked(
    fworld, tree, community_secretary, grid_worker_a
):
    policy = Policy.objects.create(
        name="高龄慰问", conditions={}, area=tree["DS0C0"], area_path=tree["DS0C0"].path, created_by=community_secretary
    )
    mine = finder_residents(grid_worker_a, FinderQuery()).first()  # an adult of their grid
    assert mine is not None and mine.grid_id == tree["DS0C0G0"].pk
    elsewhere = _active(fworld, grid=tree["DS0C0G1"])[0]
    secretary = _client(community_secretary)
    for resident, note in ((mine, "本人已知晓"), (elsewhere, "子女电话13912345678代收")):
        response = secretary.post(
            reverse("finder:policy_contact", args=[policy.pk]),
            {"resident": resident.pk, "outcome": "phone", "note": note},
        )
        assert response.status_code == 302
    assert PolicyContact.objects.count() == 2

    # The community's secretary sees both, the phone in the note masked on this audit line.
    body = secretary.get(reverse("finder:policy", args=[policy.pk])).content.decode()
    assert "本人已知晓" in body and "13912345678" not in body and mask_text("13912345678") in body
    listed = secretary.get(reverse("finder:policies")).context["policies"]
    assert [(p.pk, p.contact_count) for p in listed] == [(policy.pk, 2)]

    # The grid worker of DS0C0G0 sees only the contact inside their grid, on the page and in the list.
    worker = _client(grid_worker_a)
    response = worker.get(reverse("finder:policy", args=[policy.pk]))
    assert [c.resident_id for c in response.context["recent"]] == [mine.pk]
    assert "代收" not in response.content.decode()
    listed = worker.get(reverse("finder:policies")).context["policies"]
    assert [(p.pk, p.contact_count) for p in listed] == [(policy.pk, 1)]


def test_a_contact_for_a_resident_the_conditions_do_not_find_is_refused(fworld, tree, community_secretary):
    policy = Policy.objects.create(
        name="两癌筛查",
        conditions={"gender": "female", "not_contacted_since": "2020-01-01"},
        area=tree["DS0C0"],
        area_path=tree["DS0C0"].path,
        created_by=community_secretary,
    )
    residents = _active(fworld, community=tree["DS0C0"])
    man = next(r for r in residents if r.gender == "male")
    woman = next(r for r in residents if r.gender == "female")
    client = _client(community_secretary)
    url = reverse("finder:policy_contact", args=[policy.pk])
    response = client.post(url, {"resident": man.pk, "outcome": "phone"}, follow=True)
    assert not PolicyContact.objects.exists()
    assert "这位居民不符合本政策的条件" in response.content.decode()
    # A woman may be contacted twice: the contact itself does not take her out of the policy.
    for outcome in ("phone", "visit"):
        client.post(url, {"resident": woman.pk, "outcome": outcome})
    assert PolicyContact.objects.filter(resident=woman).count() == 2


def test_contact_history_on_the_resident_page_include(fworld, tree, community_secretary):
    from django.template import Context, Template
    from django.test import RequestFactory

    policy = Policy.objects.create(
        name="高龄补贴", conditions={}, area=tree["DS0C0"], area_path=tree["DS0C0"].path, created_by=community_secretary
    )
    resident = _active(fworld, community=tree["DS0C0"])[0]
    PolicyContact.objects.create(
        policy=policy,
        resident=resident,
        outcome="enjoyed",
        note="已在享受，请拨13912345678",
        contacted_by=community_secretary,
    )
    request = RequestFactory().get("/")
    request.user = community_secretary
    html = Template("{% load finder %}{% resident_contacts resident %}").render(
        Context({"request": request, "resident": resident})
    )
    # The note masked unless the page shows the resident in full (and logged that).
    assert "高龄补贴" in html and "已在享受" in html
    assert "13912345678" not in html and mask_text("13912345678") in html
    revealed = Template("{% load finder %}{% resident_contacts resident %}").render(
        Context({"request": request, "resident": resident, "revealed": True})
    )
    assert "13912345678" in revealed
    outsider = make_user("outsider", role=Role.COMMUNITY_SECRETARY, area=tree["DS1C1"])
    request.user = outsider
    html = Template("{% load finder %}{% resident_contacts resident %}").render(
        Context({"request": request, "resident": resident})
    )
    assert "高龄补贴" not in html


def test_the_finder_page_uses_a_bounded_number_of_queries(fworld, community_secretary, django_assert_max_num_queries):
    client = _client(community_secretary)
    client.get(reverse("finder:search"), {"age_min": 1})
    with django_assert_max_num_queries(14):
        client.get(reverse("finder:search"), {"age_min": 0})
    make_department("ZZ")
