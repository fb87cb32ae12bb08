"""The API's JSON renderer (governance.api.JSONRenderer): DRF's bytes, made by orjson."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from governance.api import JSONRenderer

SHANGHAI = timezone(timedelta(hours=8))


def payload() -> dict:
    rows = ReturnList(
        [
            {
                "tracking_no": "BJ2026120300001",
                "title": "楼道灯不亮\u2028第二行\u2029",
                "created_at": datetime(2026, 12, 3, 7, 5, 9, 123456, tzinfo=UTC),
                "deadline_at": datetime(2026, 12, 5, 17, 30, tzinfo=SHANGHAI),
                "day": date(2026, 12, 3),
                "at": time(8, 30),
                "rate": Decimal("0.875"),
                "lon": 120.3551,
                "count": 2**40,
                "overdue": False,
                "reply": None,
                "label": gettext_lazy("Petitions"),
                "ref": uuid.UUID("12345678-1234-5678-1234-567812345678"),
                "span": timedelta(hours=2, minutes=3),
                "tags": ("a", "b"),
            }
        ],
        serializer=None,
    )
    return ReturnDict({"count": 1, "next": None, "results": rows, 7: "int key"}, serializer=None)


def test_it_renders_the_bytes_drf_renders():
    data = payload()
    assert JSONRenderer().render(data, "application/json", {}) == DrfJSONRenderer().render(data, "application/json", {})


def test_an_indented_answer_is_drfs_own():
    data = payload()
    media = "application/json; indent=4"
    rendered = JSONRenderer().render(data, media, {})
    assert rendered == DrfJSONRenderer().render(data, media, {}) and b"\n    " in rendered


def test_what_orjson_refuses_is_rendered_by_drf():
    data = {"huge": 2**70}
    assert JSONRenderer().render(data, "application/json", {}) == b'{"huge":1180591620717411303424}'


def test_a_type_neither_knows_is_refused():
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()}, "application/json", {})


def test_it_is_the_apis_renderer(settings):
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_RENDERER_CLASSES[0] is JSONRenderer
