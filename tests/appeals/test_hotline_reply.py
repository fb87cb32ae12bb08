"""12345 reply-back (回单): written with the resolution, listed, exported in the hotline's columns, fed by cursor."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.test import Client
from openpyxl import load_workbook

from appeals.hotline_replies import encode_cursor
from appeals.models import Channel, HotlineReply, HotlineReplyResult, Petition
from appeals.services import petition_accept, petition_reply
from appeals.services.hotline_reply import hotline_replies_backfill, hotline_reply_owe
from appeals.services.outcome import petition_merge, petition_reopen
from governance.models import AccessLog, AccessReason
from governance.settings import HOTLINE_REPLY_FIELDS, parse_hotline_columns
from tests.appeals.conftest import POINT_OTHER_STREET

REPLY = "已联系环卫所清运，现场已清理干净。联系人王师傅 13812345678。"
FEED = "/api/v1/hotline/replies/"


@pytest.fixture
def hotline(submit):
    """A routed hotline order (channel hotline, external_ref = its order number)."""

    def _hotline(order_no: str, **overrides):
        return submit(channel=Channel.HOTLINE, external_ref=order_no, **overrides)

    return _hotline


def resolve(petition: Petition, actor, reply: str = REPLY) -> Petition:
    petition_accept(petition_id=petition.pk, actor=actor)
    return petition_reply(petition_id=petition.pk, actor=actor, reply=reply)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Written with the resolution ---------------------------------------------------------------------


def test_resolving_a_hotline_order_owes_its_reply(hotline, grid_worker_a):
    petition = resolve(hotline("GD20261201001"), grid_worker_a)
    reply = HotlineReply.objects.get(petition=petition)
    assert (reply.order_no, reply.tracking_no, reply.result, reply.reply, reply.round) == (
        "GD20261201001",
        petition.tracking_no,
        HotlineReplyResult.RESOLVED,
        REPLY,
        1,
    )
    assert reply.unit_name == petition.handler_area.name and reply.unit_code == petition.handler_area.code
    assert reply.resolved_at == petition.resolved_at
    assert reply.area_path == petition.area_path


def test_other_channels_owe_nothing(submit, grid_worker_a):
    resolve(submit(), grid_worker_a)
    assert not HotlineReply.objects.exists()


def test_a_rolled_back_resolution_owes_nothing(hotline, grid_worker_a):
    petition = hotline("GD20261201002")
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply=REPLY)
        assert HotlineReply.objects.filter(petition=petition).exists()  # in the same transaction
        raise RuntimeError("the resolution fails after the reply row was written")
    assert not HotlineReply.objects.filter(petition=petition).exists()


def test_owing_twice_for_the_same_round_keeps_one_row(hotline, grid_worker_a):
    petition = resolve(hotline("GD20261201003"), grid_worker_a)
    again = hotline_reply_owe(petition, at=petition.resolved_at)
    assert HotlineReply.objects.filter(petition=petition).count() == 1
    assert again[0].pk == HotlineReply.objects.get(petition=petition).pk
    assert hotline_replies_backfill() == 0


def test_a_reopened_order_resolved_again_owes_a_second_reply(hotline, grid_worker_a):
    petition = resolve(hotline("GD20261201004"), grid_worker_a)
    petition_reopen(petition_id=petition.pk, contact_phone=petition.contact_phone, reason="还是有垃圾")
    resolve(Petition.objects.get(pk=petition.pk), grid_worker_a, reply="第二次清运完毕。")
    rows = list(HotlineReply.objects.filter(petition=petition).order_by("round"))
    assert [(row.round, row.reply) for row in rows] == [(1, REPLY), (2, "第二次清运完毕。")]


def test_an_order_merged_into_another_is_answered_with_the_masters_reply(submit, hotline, grid_worker_a):
    master = submit(title="门口垃圾", description="幸福路12号院门口垃圾没人清运。")
    duplicate = hotline("GD20261201005")
    petition_merge(petition_id=duplicate.pk, into_id=master.pk, actor=grid_worker_a)
    resolve(master, grid_worker_a)
    reply = HotlineReply.objects.get(petition=duplicate)
    assert (reply.result, reply.reply, reply.order_no) == (HotlineReplyResult.MERGED, REPLY, "GD20261201005")
    assert not HotlineReply.objects.filter(petition=master).exists()  # the master came from the form


def test_the_backfill_writes_what_is_missing_once(hotline, grid_worker_a):
    petition = resolve(hotline("GD20261201006"), grid_worker_a)
    HotlineReply.objects.all().delete()  # a resolution recorded before reply-back existed
    assert hotline_replies_backfill() == 1
    assert hotline_replies_backfill() == 0
    assert HotlineReply.objects.get(petition=petition).reply == REPLY


# --- The feed with a cursor ----------------------------------------------------------------------------


@pytest.fixture
def three_replies(hotline, grid_worker_a):
    return [resolve(hotline(f"GD2026120110{i}"), grid_worker_a) for i in range(3)]


def test_the_feed_pages_by_cursor_and_the_same_cursor_gives_the_same_rows(three_replies, district_centre):
    client = logged_in(district_centre)
    first = client.get(FEED, {"limit": 2}).json()
    assert [row["order_no"] for row in first["results"]] == ["GD20261201100", "GD20261201101"]
    assert first["has_more"] is True
    second = client.get(FEED, {"after": first["next"], "limit": 2}).json()
    assert [row["order_no"] for row in second["results"]] == ["GD20261201102"]
    assert second["has_more"] is False
    assert client.get(FEED, {"after": first["next"], "limit": 2}).json() == second  # idempotent
    # Nothing new: the answer is empty and keeps the cursor.
    empty = client.get(FEED, {"after": second["next"]}).json()
    assert empty == {"results": [], "next": second["next"], "has_more": False}
    row = second["results"][0]
    assert row["result"] == "办结" and row["result_code"] == "resolved" and row["reply"] == REPLY
    assert row["resolved_at"].endswith("+08:00")


def test_a_reply_written_later_comes_after_the_cursor(three_replies, district_centre, hotline, grid_worker_a):
    client = logged_in(district_centre)
    done = client.get(FEED).json()
    resolve(hotline("GD20261201199"), grid_worker_a)
    later = client.get(FEED, {"after": done["next"]}).json()
    assert [row["order_no"] for row in later["results"]] == ["GD20261201199"]


def test_the_feed_refuses_a_bad_cursor_in_chinese(three_replies, district_centre):
    response = logged_in(district_centre).get(FEED, {"after": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_cursor"
    assert "游标" in response.json()["message"]
    assert logged_in(district_centre).get(FEED, {"limit": "0"}).status_code == 400


def test_the_feed_is_for_the_district_and_streets_only_and_scoped(
    three_replies, grid_worker_a, street_command, other_street_command
):
    assert logged_in(grid_worker_a).get(FEED).status_code == 403
    assert len(logged_in(street_command).get(FEED).json()["results"]) == 3
    assert logged_in(other_street_command).get(FEED).json()["results"] == []
    assert Client().get(FEED).status_code in (401, 403)


def test_the_feed_writes_the_access_log(three_replies, district_centre):
    logged_in(district_centre).get(FEED)
    logged = AccessLog.objects.filter(reason=AccessReason.EXPORT, model="appeals.hotlinereply")
    assert logged.count() == 3


def test_the_cursor_is_the_rows_own(three_replies, district_centre):
    rows = list(HotlineReply.objects.order_by("txid", "pk"))
    feed = logged_in(district_centre).get(FEED).json()
    assert [row["cursor"] for row in feed["results"]] == [encode_cursor(row) for row in rows]


# --- The page and the exports --------------------------------------------------------------------------


def test_the_page_lists_the_replies_masked(three_replies, district_centre):
    page = logged_in(district_centre).get("/hotline/replies/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "GD20261201100" in body and "环卫所" in body
    assert "13812345678" not in body and "138******78" in body


def test_the_page_filters_by_order_number(three_replies, district_centre):
    page = logged_in(district_centre).get("/hotline/replies/", {"q": "1201101"})
    assert [row["reply"].order_no for row in page.context["rows"]] == ["GD20261201101"]


def test_the_page_and_exports_are_refused_to_a_grid_worker(three_replies, grid_worker_a):
    client = logged_in(grid_worker_a)
    for url in ("/hotline/replies/", "/hotline/replies/export.csv", "/hotline/replies/export.xlsx"):
        assert client.get(url).status_code == 403


def test_the_csv_has_the_hotlines_columns_unmasked_and_is_logged(three_replies, district_centre):
    response = logged_in(district_centre).get("/hotline/replies/export.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["工单编号", "办理结果", "回复内容", "承办单位", "办结时间"]
    assert [row[0] for row in rows[1:]] == ["GD20261201100", "GD20261201101", "GD20261201102"]
    assert rows[1][1] == "办结" and rows[1][2] == REPLY
    assert AccessLog.objects.filter(reason=AccessReason.EXPORT).count() == 3


def test_the_export_columns_are_configurable(three_replies, district_centre, settings):
    settings.HOTLINE_REPLY_COLUMNS = {"单号": "order_no", "受理编号": "tracking_no", "答复": "reply"}
    rows = list(csv.reader(io.StringIO(logged_in(district_centre).get("/hotline/replies/export.csv").content.decode("utf-8-sig"))))  # fmt: skip
    assert rows[0] == ["单号", "受理编号", "答复"]
    assert rows[1] == ["GD20261201100", three_replies[0].tracking_no, REPLY]


def test_the_xlsx_has_the_same_rows(three_replies, district_centre):
    response = logged_in(district_centre).get("/hotline/replies/export.xlsx", {"after": ""})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("工单编号", "办理结果", "回复内容", "承办单位", "办结时间")
    assert [row[0] for row in values[1:]] == ["GD20261201100", "GD20261201101", "GD20261201102"]


def test_an_export_after_a_cursor_has_only_the_newer_rows(three_replies, district_centre):
    first = HotlineReply.objects.order_by("txid", "pk").first()
    response = logged_in(district_centre).get("/hotline/replies/export.csv", {"after": encode_cursor(first)})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["GD20261201101", "GD20261201102"]
    bad = logged_in(district_centre).get("/hotline/replies/export.csv", {"after": "%%%"})
    assert bad.status_code == 400 and "游标" in bad.content.decode()


def test_a_formula_in_a_reply_is_exported_as_text(hotline, grid_worker_a, district_centre):
    resolve(hotline("GD20261201300"), grid_worker_a, reply='=HYPERLINK("http://x/","点")')
    rows = list(csv.reader(io.StringIO(logged_in(district_centre).get("/hotline/replies/export.csv").content.decode("utf-8-sig"))))  # fmt: skip
    assert rows[1][2].startswith("'=")


def test_the_street_exports_only_its_own_streets(hotline, grid_worker_a, other_street_command, street_command):
    resolve(hotline("GD20261201400"), grid_worker_a)
    other = hotline("GD20261201401", point=POINT_OTHER_STREET)
    assert other.street.code == "DS1"
    own = list(csv.reader(io.StringIO(logged_in(street_command).get("/hotline/replies/export.csv").content.decode("utf-8-sig"))))  # fmt: skip
    assert [row[0] for row in own[1:]] == ["GD20261201400"]
    theirs = logged_in(other_street_command).get("/hotline/replies/export.csv").content.decode("utf-8-sig")
    assert "GD20261201400" not in theirs


def test_the_column_setting_refuses_unknown_fields():
    with pytest.raises(ImproperlyConfigured, match="unknown field"):
        parse_hotline_columns('{"工单编号": "phone"}', name="HOTLINE_REPLY_COLUMNS", fields=HOTLINE_REPLY_FIELDS)
    assert parse_hotline_columns('{"单号": "order_no"}', name="X", fields=HOTLINE_REPLY_FIELDS) == {"单号": "order_no"}


@pytest.mark.parametrize(
    "params", [{"limit": "+5"}, {"limit": " 5"}, {"limit": "٥"}, {"limit": ""}, {"after": "1-2\n"}]
)
def test_the_feed_takes_only_what_its_schema_describes(district_centre, params):
    response = logged_in(district_centre).get(FEED, params)
    assert response.status_code == 400
