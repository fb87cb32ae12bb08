"""governance.accesslog: append-only rows for every unmasked view and export, searchable in the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from governance.accesslog import AccessRecord, access_log_write, access_record
from governance.models import AccessLog, AccessReason, Role
from tests.factories import make_user


def write(user, *records: AccessRecord, reason=AccessReason.HANDLER_VIEW, request=None) -> int:
    return access_log_write(user=user, reason=reason, records=records, request=request)


def test_it_writes_who_what_why_and_from_where(db):
    user = make_user("viewer")
    request = RequestFactory().get("/petitions/260101000001/?tab=x", REMOTE_ADDR="203.0.113.9")
    write(
        user, AccessRecord("appeals.petition", "7", "260101000001", ("contact_phone", "description")), request=request
    )
    entry = AccessLog.objects.get()
    assert (entry.user, entry.actor, entry.model, entry.object_id, entry.record) == (
        user,
        "viewer",
        "appeals.petition",
        "7",
        "260101000001",
    )
    assert (entry.fields, entry.reason, entry.ip, entry.path) == (
        "contact_phone,description",
        "handler_view",
        "203.0.113.9",
        "/petitions/260101000001/?tab=x",
    )
    assert entry.at is not None


def test_an_export_writes_all_its_rows_in_one_statement(db, django_assert_num_queries):
    user = make_user("exporter")
    records = [AccessRecord("appeals.petition", str(i), f"T{i}", ("contact_phone",)) for i in range(300)]
    with django_assert_num_queries(1):
        assert write(user, *records, reason=AccessReason.EXPORT) == 300
    assert AccessLog.objects.filter(reason="export").count() == 300


def test_a_system_export_names_its_actor(db):
    access_log_write(user=None, reason=AccessReason.EXPORT, records=[AccessRecord("m", "1", "r", ("f",))], actor="cli")
    assert AccessLog.objects.get().actor == "cli"


def test_access_record_names_the_model_and_pk(db):
    user = make_user("someone")
    record = access_record(user, ["email"], record="someone")
    assert record == AccessRecord("auth.user", str(user.pk), "someone", ("email",))


def test_the_orm_refuses_to_change_or_delete_a_row(db):
    write(make_user("viewer"), AccessRecord("m", "1", "r", ("f",)))
    entry = AccessLog.objects.get()
    entry.fields = "nothing"
    for attempt in (
        entry.save,
        entry.delete,
        AccessLog.objects.all().delete,
        lambda: AccessLog.objects.update(ip=None),
    ):
        with pytest.raises(TypeError, match="append-only"):
            attempt()
    assert AccessLog.objects.get().fields == "f"


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_a_row(db):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    write(make_user("viewer"), AccessRecord("m", "1", "r", ("f",)))
    for sql in ("UPDATE governance_accesslog SET fields = 'x'", "DELETE FROM governance_accesslog"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AccessLog.objects.get().fields == "f"


# --- The admin page ----------------------------------------------------------------------------------


@pytest.fixture
def logged(db):
    alice, bob = make_user("alice"), make_user("bob")
    write(alice, AccessRecord("appeals.petition", "1", "260101000001", ("contact_phone", "contact_name")))
    # Three days earlier (a row may be created with any time; it can never be changed afterwards).
    AccessLog.objects.create(
        at=timezone.now() - timedelta(days=3),
        user=bob,
        actor="bob",
        model="appeals.petition",
        object_id="2",
        record="260101000002",
        fields="description",
        reason=AccessReason.EXPORT,
    )
    return alice, bob


def test_administrators_search_the_log_in_the_admin(client, tree, administrator, logged):
    url = reverse("admin:governance_accesslog_changelist")
    alice, _bob = logged
    client.force_login(administrator)
    page = client.get(url).content.decode()
    assert "260101000001" in page and "260101000002" in page
    filters = {
        "q": "260101000001",
        "field": "contact_name",
        "reason__exact": "handler_view",
        "user__id__exact": str(alice.pk),
    }
    for name, value in filters.items():
        page = client.get(url, {name: value}).content.decode()
        assert "260101000001" in page and "260101000002" not in page, name
    today = timezone.localdate()
    page = client.get(url, {"at__year": today.year, "at__month": today.month, "at__day": today.day}).content.decode()
    assert "260101000001" in page and "260101000002" not in page


def test_nobody_changes_the_log_in_the_admin(client, administrator, logged):
    client.force_login(administrator)
    entry = AccessLog.objects.first()
    assert client.get(reverse("admin:governance_accesslog_add")).status_code == 403
    assert (
        client.post(reverse("admin:governance_accesslog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    )
    page = client.get(reverse("admin:governance_accesslog_change", args=[entry.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert AccessLog.objects.count() == 2


def test_only_administrators_read_the_log_in_the_admin(client, tree, logged):
    # The district centre reads it on its own page (tests/governance/test_reference_pages.py).
    for role, area in ((Role.STREET_COMMAND, "DS0"), (Role.GRID_WORKER, "DS0C0G0"), (Role.DISTRICT_CENTRE, "D")):
        user = make_user(f"{role}_staff", role=role, area=tree[area], is_staff=True)
        client.force_login(user)
        assert client.get(reverse("admin:governance_accesslog_changelist")).status_code == 403


def test_deleting_a_user_leaves_their_rows_as_written(client, administrator):
    user = make_user("leaver")
    write(user, AccessRecord("appeals.petition", "1", "260101000001", ("contact_phone",)))
    user_id = user.pk
    user.delete()
    entry = AccessLog.objects.get()
    assert (entry.user_id, entry.actor, entry.fields) == (user_id, "leaver", "contact_phone")
    client.force_login(administrator)
    assert "leaver" in client.get(reverse("admin:governance_accesslog_changelist")).content.decode()
    assert client.get(reverse("admin:governance_accesslog_change", args=[entry.pk])).status_code == 200
