from typing import Any

from django.http import HttpRequest

from appeals.inbox import BELL_READ, unread_count
from governance.sessions import read_with_session


def bell(request: HttpRequest) -> dict[str, Any]:
    """The header's unread count, evaluated only when a template shows the bell.

    A page read (GET, HEAD) takes the count the session's statement read at the start of the
    request (`appeals.apps` registers it): nothing a page read does marks a notification read.
    Any other request counts when it draws the bell, after what it changed."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}

    def unread() -> int:
        if request.method in ("GET", "HEAD"):
            counted = read_with_session(user, BELL_READ)
            if counted is not None:
                return counted
        return unread_count(user)

    return {"bell_unread": unread}
