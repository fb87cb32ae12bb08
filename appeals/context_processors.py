from typing import Any

from django.http import HttpRequest

from appeals.inbox import unread_count


def bell(request: HttpRequest) -> dict[str, Any]:
    """The header's unread count, evaluated only when a template shows the bell."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    return {"bell_unread": lambda: unread_count(user)}
