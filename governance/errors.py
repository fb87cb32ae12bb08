"""One domain error base with a stable code, and the DRF handler that renders it.

API errors always look like `{"message": ..., "code": ..., "extra": {...}}`; HTML views show
`error.message` (already translated).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A refused operation. `code` is stable for clients; `message` is for people."""

    code = "invalid"
    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = str(message)
        if code is not None:
            self.code = code
        self.extra = extra or {}


class NotFound(DomainError):
    code = "not_found"
    http_status = status.HTTP_404_NOT_FOUND


class Forbidden(DomainError):
    code = "forbidden"
    http_status = status.HTTP_403_FORBIDDEN


class Conflict(DomainError):
    code = "conflict"
    http_status = status.HTTP_409_CONFLICT


class RateLimited(DomainError):
    """Too many requests from this client (or for this key): 429 with a Retry-After header."""

    code = "rate_limited"
    http_status = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, message: str | None = None, *, retry_after: int | None = None):
        super().__init__(message or too_many_message(retry_after), extra={"retry_after": retry_after})
        self.retry_after = retry_after


def too_many_message(retry_after: int | float | None) -> str:
    if not retry_after:
        return _("Too many requests. Please try again later.")
    minutes = max(1, round(retry_after / 60))
    return _("Too many requests. Please try again in %(minutes)s minutes.") % {"minutes": minutes}


def _body(message: str, code: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"message": message, "code": code, "extra": extra or {}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, drf_exceptions.Throttled):
        exc = RateLimited(retry_after=int(exc.wait) if exc.wait else None)
    request = context.get("request")
    if isinstance(exc, drf_exceptions.AuthenticationFailed) and getattr(request, "axes_locked_out", False):
        # django-axes refused a locked account or address inside Basic authentication.
        exc = RateLimited(_("Too many failed log-ins. This account is locked for a while; please try again later."))
    if isinstance(exc, DomainError):
        response = Response(_body(exc.message, exc.code, exc.extra), status=exc.http_status)
        if isinstance(exc, RateLimited) and exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, Http404):
        return Response(_body(_("Not found."), "not_found"), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return Response(_body(_("You do not have permission to do this."), "forbidden"), status=403)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = _body(_("Some fields are not valid."), "validation_error", {"fields": exc.detail})
    elif isinstance(exc, drf_exceptions.APIException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        codes = exc.get_codes()
        response.data = _body(detail, codes if isinstance(codes, str) else exc.default_code)
    return response
