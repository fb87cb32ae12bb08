"""Request and response rules that hold for every URL: refused control characters, security headers.

`InputGuardMiddleware` sits early in `MIDDLEWARE`: a NUL byte (PostgreSQL refuses it in text) or
another control character in the path, the query string or a form/JSON body answers a clear 400
before any view, form or query sees it — JSON under /api/ and /open311/, a short page otherwise.
Tab, line feed and carriage return are allowed in bodies (a description has lines).

`PrivateResponseMiddleware` marks every answer that may carry personal data `Cache-Control:
no-store`: a shared proxy or the browser's back button must not keep a petition or a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

# C0 controls and DEL; the C1 block (U+0080–U+009F) never appears in real Chinese or English text.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
BODY_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# In JSON text a control character is written as an escape: \u0000 … \u001f, \u007f … \u009f
# (\u0009, \u000a, \u000d allowed). The look-behind skips an escaped backslash ("\\u0000" is text).
JSON_ESCAPE_RE = re.compile(r"(?<!\\)(?:\\\\)*\\u00(?!0[9aAdD])([01][0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])")
JSON_PREFIXES = ("/api/", "/open311/")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _any_control(values: Iterable[str], pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(value) for value in values)


def _form_values(request: HttpRequest) -> Iterable[str]:
    for key, values in request.POST.lists():
        yield key
        yield from values


class InputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = self.poisoned(request)
        if where:
            return self.refuse(request, where)
        return self.get_response(request)

    @staticmethod
    def poisoned(request: HttpRequest) -> str:
        """Which part of the request carries a refused control character ("" when none)."""
        if CONTROL_RE.search(request.path_info) or CONTROL_RE.search(request.path):
            return "path"
        query = request.GET
        if _any_control(query.keys(), CONTROL_RE) or _any_control(
            (value for values in query.lists() for value in values[1]), CONTROL_RE
        ):
            return "query"
        if request.method not in ("POST", "PUT", "PATCH"):
            return ""
        content_type = request.content_type or ""
        if content_type in FORM_TYPES:
            try:
                if _any_control(_form_values(request), BODY_CONTROL_RE):
                    return "body"
            except (MultiPartParserError, UnicodeDecodeError, ValueError):
                return ""  # malformed bodies are the view's and the parser's to refuse
        elif content_type == "application/json" or content_type.endswith("+json"):
            text = request.body.decode("utf-8", errors="replace")
            if BODY_CONTROL_RE.search(text) or JSON_ESCAPE_RE.search(text):
                return "body"
        return ""

    @staticmethod
    def refuse(request: HttpRequest, where: str) -> HttpResponse:
        message = _("The request contains control characters (such as NUL) that are not allowed; remove them.")
        if request.path_info.startswith(JSON_PREFIXES):
            body = {"message": message, "code": "control_characters", "extra": {"where": where}}
            return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
        return HttpResponseBadRequest(render_to_string("bad_request.html", {"message": message}))


# Paths whose answers never carry personal data: public catalogues and assets. Everything else is
# `no-store` (staff pages, the resident's tracking pages, the API, Open311 requests).
PUBLIC_PATHS = (
    re.compile(r"^/static/"),
    re.compile(r"^/health/$"),
    re.compile(r"^/api/schema/"),
    re.compile(r"^/api/docs/"),
    re.compile(r"^/open311/v2/services(\.\w+|/.*)$"),
    re.compile(r"^/open311/v2/discovery"),
)


def is_public_path(path: str) -> bool:
    return any(pattern.match(path) for pattern in PUBLIC_PATHS)


class PrivateResponseMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_public_path(request.path_info):
            patch_cache_control(response, no_store=True, private=True)
        return response
