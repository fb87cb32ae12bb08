"""The OpenAPI schema, true to what the API answers (drf-spectacular's AutoSchema and a hook).

schemathesis (tests/security/) checks every answer against this schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.fields import CharField, ChoiceField


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema, true to what the server refuses: a required text field that may
    not be blank has `minLength: 1` and a non-blank `pattern` (DRF strips whitespace first)."""

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, CharField)
            and not isinstance(field, ChoiceField)
            and not field.allow_blank
            and not field.read_only
            and schema.get("type") == "string"
        ):
            schema.setdefault("minLength", 1)
            schema.setdefault("pattern", r"\S")
        return schema


# What every API operation can answer besides its success, with the reason (docs/security.md).
ERROR_RESPONSES = {
    "400": "validation_error, a malformed body (too large, nested too deep) or a refused operation",
    "401": "not signed in",
    "403": "signed in, but not allowed",
    "404": "not_found (also when outside your scope)",
    "429": "throttled: too many requests",
}
WRITE_ERROR_RESPONSES = {"409": "invalid_transition or a conflicting state"}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "code": {"type": "string"}, "extra": {"type": "object"}},
    "required": ["message", "code", "extra"],
}


def api_schema_add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """Document 400/401/403/404/429 on every operation (and 409 on writes) that does not already."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    reference = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = dict(ERROR_RESPONSES)
            if method in ("post", "put", "patch", "delete"):
                codes.update(WRITE_ERROR_RESPONSES)
            for code, description in codes.items():
                operation["responses"].setdefault(
                    code, {"content": {"application/json": {"schema": reference}}, "description": description}
                )
    return result
