"""Sessions in the database, each row knowing its user: one query per request, "log out everywhere".

`SESSION_ENGINE = "governance.sessions"`. The rows live in `governance_usersession` (Django's
session columns plus `user_id`, written whenever the session is saved, from the signed-in user the
session's own data names). That column buys two things:

- **One query for session, user and scope.** Loading a session selects its row joined with the
  user and, on PostgreSQL, the user's active posts as one JSON array: the request's session, user
  and `governance.scoping.scope_for` cost one round trip instead of three. That statement is
  written once per process (`_session_statement`), not compiled by the ORM on every request, and
  prepared once per connection (`governance.prepared`), not planned every time. `SessionUserMiddleware`
  (in place of Django's `AuthenticationMiddleware`) hands that user to Django's own `auth.get_user`,
  which still verifies the backend, `is_active` and the session's password hash as always; a user
  that does not match the session's data is never used (the normal query runs instead).
- **Log out everywhere.** `end_user_sessions(user)` deletes every row of the user: one statement.

Idle expiry: `SESSION_IDLE_SECONDS` (staff) and `SESSION_IDLE_SECONDS_RESIDENT` (signed-in
residents). A session's row expires that long after its last use; `IdleSessionMiddleware` moves
the expiry forward at most once per `SESSION_IDLE_REFRESH_SECONDS` (so a busy user's requests do
not each write), and a session unused for longer than its idle time is gone: the row has expired,
the next request is anonymous and a staff page asks for the log-in again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware, auser
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.contrib.sessions.base_session import AbstractBaseSession, BaseSessionManager
from django.core.exceptions import SuspiciousOperation
from django.db import connections, models, router
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from governance.prepared import execute_prepared

# The user the session's query read, offered to `SessionUserBackend.get_user` during one
# `auth.get_user` call (set and reset around it by `SessionUserMiddleware`).
_PRELOADED: ContextVar[Any] = ContextVar("governance_preloaded_user", default=None)
# Session data key: when the session was last seen (epoch seconds), for the idle expiry.
LAST_SEEN_KEY = "_last_seen"


class UserSession(AbstractBaseSession):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=True,
    )

    objects = BaseSessionManager()

    class Meta(AbstractBaseSession.Meta):
        app_label = "governance"
        db_table = "governance_usersession"
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        return SessionStore


def _session_user_id(data: dict) -> int | None:
    try:
        return int(data[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


class SessionStore(DBStore):
    """Django's database store on `UserSession`; its load also reads the user and their posts."""

    preloaded_user: Any = None

    @classmethod
    def get_model_class(cls):
        return UserSession

    def create_model_instance(self, data: dict) -> UserSession:
        obj = super().create_model_instance(data)
        obj.user_id = _session_user_id(data)
        return obj

    def _get_session_from_db(self) -> UserSession | None:
        alias = router.db_for_read(self.model)
        vendor = connections[alias].vendor
        if vendor == "postgresql":
            return self._get_session_from_postgresql(alias)
        queryset = self.model.objects.filter(session_key=self.session_key, expire_date__gt=timezone.now())
        try:
            return queryset.get()
        except (self.model.DoesNotExist, SuspiciousOperation) as error:
            if isinstance(error, SuspiciousOperation):
                logging.getLogger(f"django.security.{error.__class__.__name__}").warning(str(error))
            self._session_key = None
            return None

    def _get_session_from_postgresql(self, alias: str) -> UserSession | None:
        """The session row, its user and their posts in one statement written once per process.

        The same query the ORM path builds (session ⟕ user, the active posts as one JSON array),
        without compiling it on every request: compiling the join and the JSON subquery cost more
        than running it.
        """
        session_fields, user_fields, read_names, sql = _session_statement(alias)
        with connections[alias].cursor() as cursor:
            # Planning it cost more than running it: prepared once per connection.
            execute_prepared(
                cursor, alias, "governance_session", sql, [self.session_key, timezone.now()], SESSION_PARAMETER_TYPES
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        width = len(session_fields)
        session = self.model.from_db(alias, session_fields, row[:width])
        if session.user_id is not None:
            after_reads = width + 1 + len(read_names)
            user = get_user_model().from_db(alias, user_fields, row[after_reads:])
            posts = row[width]
            if isinstance(posts, str):
                posts = json.loads(posts)
            user._staff_posts = posts or []
            user._read_with_session = dict(zip(read_names, row[width + 1 : after_reads], strict=True))
            self.preloaded_user = user
        return session

    def delete(self, session_key: str | None = None) -> None:
        self.preloaded_user = None
        super().delete(session_key)


# What `_session_statement` selects of each active post, as `governance.scoping.POST_COLUMNS` names them.
_POST_SQL = {
    "role": 'p."role"',
    "area__path": 'a."path"',
    "department_id": 'p."department_id"',
    "area__level": 'a."level"',
    "area_id": 'p."area_id"',
}
_STATEMENTS: dict[str, tuple[list[str], list[str], list[str], str]] = {}
# The session statement's parameters: the session key and the moment it must not have expired by.
SESSION_PARAMETER_TYPES = ("text", "timestamptz")
# Figures about the user that every page shows (the bell's unread count), read by the session's
# own statement: one round trip less on every page. Registered by the app that owns the figure
# (governance imports no app): a name and a function of the quoting function that gives a
# scalar subquery over the session's `s."user_id"`. Read back with `read_with_session`.
_SESSION_READS: dict[str, Callable[[Callable[[str], str]], str]] = {}


def register_session_read(name: str, subquery: Callable[[Callable[[str], str]], str]) -> None:
    _SESSION_READS[name] = subquery
    _STATEMENTS.clear()


def read_with_session(user: Any, name: str) -> Any:
    """The figure `name` as the session's statement read it for `user` this request, else None
    (not registered, not PostgreSQL, a user not read with a session: ask the figure's owner)."""
    return getattr(user, "_read_with_session", {}).get(name)


def _session_statement(alias: str) -> tuple[list[str], list[str], list[str], str]:
    """(session attnames, user attnames, read names, SQL): the session's columns, its posts, the
    registered reads (`register_session_read`), the user's columns."""
    cached = _STATEMENTS.get(alias)
    if cached is not None:
        return cached
    from governance.models import StaffPost
    from governance.scoping import POST_COLUMNS
    from grids.models import Area

    quote = connections[alias].ops.quote_name
    session_table = quote(UserSession._meta.db_table)
    user_model = get_user_model()
    session_fields = [field.attname for field in UserSession._meta.concrete_fields]
    user_fields = [field.attname for field in user_model._meta.concrete_fields]
    posts = ", ".join(_POST_SQL[column] for column in POST_COLUMNS)
    read_names = sorted(_SESSION_READS)
    reads = "".join(f", ({_SESSION_READS[name](quote)})" for name in read_names)
    sql = (
        "SELECT "
        + ", ".join(f"s.{quote(field.column)}" for field in UserSession._meta.concrete_fields)
        + f", (SELECT JSONB_AGG(JSONB_BUILD_ARRAY({posts})) FROM {quote(StaffPost._meta.db_table)} p"
        + f' LEFT OUTER JOIN {quote(Area._meta.db_table)} a ON p."area_id" = a."id"'
        + ' WHERE p."is_active" AND p."user_id" = s."user_id")'
        + reads
        + ", "
        + ", ".join(f"u.{quote(field.column)}" for field in user_model._meta.concrete_fields)
        + f" FROM {session_table} s LEFT OUTER JOIN {quote(user_model._meta.db_table)} u"
        + f' ON s."user_id" = u.{quote(user_model._meta.pk.column)}'
        + ' WHERE s."session_key" = %s AND s."expire_date" > %s'
    )
    _STATEMENTS[alias] = (session_fields, user_fields, read_names, sql)
    return _STATEMENTS[alias]


def end_user_sessions(user: Any) -> int:
    """End every session of `user` (log out everywhere); the number ended."""
    deleted, _by_model = UserSession.objects.filter(user_id=user.pk).delete()
    return deleted


class SessionUserBackend(ModelBackend):
    """Django's ModelBackend; `get_user` takes the user the session's own query already read."""

    def get_user(self, user_id: Any) -> Any:
        user = _PRELOADED.get()
        if user is not None and str(user.pk) == str(user_id):
            if not self.user_can_authenticate(user):
                return None
            posts = getattr(user, "_staff_posts", None)
            if posts is not None:
                from governance.scoping import prime_scope

                prime_scope(user, [tuple(row) for row in posts])
            return user
        return super().get_user(user_id)


def _get_user(request: Any) -> Any:
    if not hasattr(request, "_cached_user"):
        session = request.session
        session.get(SESSION_KEY)  # load the session (and with it the user) before auth asks
        token = _PRELOADED.set(getattr(session, "preloaded_user", None))
        try:
            request._cached_user = auth.get_user(request)
        finally:
            _PRELOADED.reset(token)
    return request._cached_user


def request_user(request: Any) -> Any:
    """The user `request.user` stands for, itself rather than the lazy proxy this middleware sets.

    Through the proxy each attribute read is a function call, which code reading the user for every
    row of a page pays thousands of times (the petition list API's masking). A user set by other
    means (DRF's authentication: an API token, a test's forced user) is returned as it is.
    """
    user = request.user
    if isinstance(user, SimpleLazyObject):
        return _get_user(request)
    return user


class SessionUserMiddleware(AuthenticationMiddleware):
    """`AuthenticationMiddleware` that uses the user read with the session (no second query)."""

    def process_request(self, request: Any) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(partial(_get_user, request))
        request.auser = partial(auser, request)


def idle_seconds_for(user: Any) -> int:
    """How long a session of `user` lives unused: staff and residents have their own settings."""
    from governance.scoping import scope_for

    if scope_for(user).is_staff_member or getattr(user, "is_staff", False):
        return settings.SESSION_IDLE_SECONDS
    return settings.SESSION_IDLE_SECONDS_RESIDENT


class IdleSessionMiddleware:
    """Signed-in sessions expire after `idle_seconds_for(user)` without a request.

    The expiry moves forward with use, written at most once per SESSION_IDLE_REFRESH_SECONDS.
    Place after the authentication middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: Any):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or user is None or not session.session_key or session.is_empty():
            return response
        if not user.is_authenticated:
            return response
        now = int(time.time())
        idle = idle_seconds_for(user)
        seen = session.get(LAST_SEEN_KEY)
        if (
            seen is None
            or now - int(seen) >= min(settings.SESSION_IDLE_REFRESH_SECONDS, idle)
            or (session.get_expiry_age() > idle)
        ):
            session[LAST_SEEN_KEY] = now
            session.set_expiry(idle)
        return response
