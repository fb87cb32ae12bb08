"""The REST API's bounds, shared by every app's API: page size, JSON body size and depth, OPTIONS.

Settings name these classes in `REST_FRAMEWORK` (this module must not import DRF's views: they
read those settings while being imported). The schema's side is `governance.api_schema`.
"""

from __future__ import annotations

import io
from typing import Any

import orjson
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.metadata import SimpleMetadata
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Deeper bodies are refused before any view sees them: no input of ours nests more than 3 levels,
# and Python's decoder recurses (5,000 nested "[" used to end in a RecursionError and a 500).
MAX_JSON_DEPTH = 32
# A longer `limit`/`offset` is clamped without being parsed.
MAX_INTEGER_DIGITS = 18


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """`limit` is clamped to settings.API_MAX_PAGE_SIZE; a `limit` or `offset` that is not a
    non-negative integer answers 400 (a huge one used to reach PostgreSQL as a bigint and a 500).

    An `offset` past the end answers an empty page without querying.
    """

    @property
    def max_limit(self) -> int:  # type: ignore[override]
        return settings.API_MAX_PAGE_SIZE

    def _non_negative(self, request: Any, name: str) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        if not raw.isascii() or not raw.isdigit():
            raise ValidationError({name: [_("Give a whole number of at least 0.")]})
        # Anything longer is past every page and bigger than any limit: clamp before parsing.
        return int(raw) if len(raw) <= MAX_INTEGER_DIGITS else 10**MAX_INTEGER_DIGITS

    def get_limit(self, request: Any) -> int | None:
        limit = self._non_negative(request, self.limit_query_param)
        if not limit:  # absent or 0: the default page
            return self.default_limit
        return min(limit, self.max_limit)

    def get_offset(self, request: Any) -> int:
        return self._non_negative(request, self.offset_query_param) or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 0
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = f"Number of results to return per page (at most {self.max_limit})."
        return parameters


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """Whether parsed JSON nests lists/objects deeper than `limit` (iterative: no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a size bound (DATA_UPLOAD_MAX_MEMORY_SIZE) and a nesting bound."""

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise ParseError(_("The request body is larger than %(n)d bytes.") % {"n": limit})
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = json_depth_exceeds(data, self.max_depth)
        if too_deep:
            raise ParseError(_("The JSON body nests deeper than %(n)d levels.") % {"n": self.max_depth})
        return data


class ApiMetadata(SimpleMetadata):
    """OPTIONS answers 200 with `Allow` on every API view, also on views without a serializer class."""

    def determine_actions(self, request: Any, view: Any) -> dict[str, Any]:
        if hasattr(view, "get_serializer_class"):
            try:
                view.get_serializer_class()
            except AssertionError:  # an action view: its input is described in the OpenAPI schema
                return {}
        return super().determine_actions(request, view)


_ENCODE_DEFAULT = JSONEncoder().default  # DRF's conversions: dates and times, Decimal, lazy text, querysets …
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class JSONRenderer(DrfJSONRenderer):
    """DRF's JSONRenderer, the same bytes made by orjson: a page of 50 rows is serialised in a
    fraction of the time `json.dumps` takes. Dates and times and every type JSON lacks go through
    DRF's encoder (`…Z` for UTC, Decimal as a string …); U+2028/U+2029 are escaped as DRF escapes
    them. An indented answer (`Accept: application/json; indent=4`), or a value orjson refuses
    (an integer beyond 64 bits), is rendered by DRF's own renderer. One difference: a float NaN or
    infinity is `null` here, where DRF's strict JSON raises."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        if (
            self.ensure_ascii
            or not self.compact
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=_ENCODE_DEFAULT, option=_ORJSON_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        return rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
