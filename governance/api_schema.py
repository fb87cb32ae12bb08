"""The OpenAPI schema, true to what the API answers (drf-spectacular's AutoSchema and a hook).

schemathesis (tests/security/) checks every answer against this schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.fields import CharField, ChoiceField

# Control characters the edge refuses (`governance.middleware.InputGuardMiddleware`): none at all in
# paths and query strings; in bodies, none but tab, line feed and carriage return.
_BODY_CHARACTER = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
BODY_TEXT_PATTERN = rf"^{_BODY_CHARACTER}*$"
BODY_NONBLANK_PATTERN = rf"^{_BODY_CHARACTER}*[^\s\x00-\x1f\x7f-\x9f]{_BODY_CHARACTER}*$"
PARAMETER_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
PARAMETER_NONBLANK_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
# A serializer used for query parameters was mapped as a body: tighten its patterns.
PARAMETER_PATTERNS = {BODY_TEXT_PATTERN: PARAMETER_PATTERN, BODY_NONBLANK_PATTERN: PARAMETER_NONBLANK_PATTERN}


def _plain_string(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and not ({"enum", "format", "pattern"} & schema.keys())


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema, true to what the server refuses: a required text field that may
    not be blank has `minLength: 1` and a non-blank `pattern` (DRF strips whitespace first), and no
    text field takes the control characters the edge refuses."""

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or field.read_only or not _plain_string(schema):
            return schema
        if isinstance(field, CharField) and not isinstance(field, ChoiceField) and not field.allow_blank:
            schema.setdefault("minLength", 1)
            schema["pattern"] = BODY_NONBLANK_PATTERN
        else:
            schema["pattern"] = BODY_TEXT_PATTERN
        return schema


# What every API operation can answer besides its success, with the reason (docs/security.md).
ERROR_RESPONSES = {
    "400": "validation_error, a malformed body (too large, nested too deep) or a refused operation",
    "401": "not signed in",
    "403": "signed in, but not allowed",
    "404": "not_found (also when outside your scope)",
    "429": "throttled: too many requests",
}
WRITE_ERROR_RESPONSES = {
    "409": "invalid_transition or a conflicting state",
    "415": "unsupported_media_type: a body of a content type the operation does not take",
}
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
            # The server takes no field it does not declare (and the edge refuses control characters
            # in any key): a request body has exactly its properties.
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                ref = media.get("schema", {}).get("$ref", "")
                component = components.get(ref.rsplit("/", 1)[-1]) if ref else None
                if component is not None and component.get("type") == "object":
                    component.setdefault("additionalProperties", False)
            for parameter in operation.get("parameters", ()):
                schema = parameter.get("schema", {})
                if _plain_string(schema):
                    schema["pattern"] = PARAMETER_PATTERN
                elif schema.get("pattern") in PARAMETER_PATTERNS:
                    schema["pattern"] = PARAMETER_PATTERNS[schema["pattern"]]
            codes = dict(ERROR_RESPONSES)
            if method in ("post", "put", "patch", "delete"):
                codes.update(WRITE_ERROR_RESPONSES)
            for code, description in codes.items():
                operation["responses"].setdefault(
                    code, {"content": {"application/json": {"schema": reference}}, "description": description}
                )
    return result
