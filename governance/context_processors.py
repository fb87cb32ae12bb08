from typing import Any

from django.http import HttpRequest

from governance.scoping import scope_for


def staff(request: HttpRequest) -> dict[str, Any]:
    """Whether the user holds a staff post, from the scope cached for the request (no query twice)."""
    user = getattr(request, "user", None)
    return {"is_staff_member": bool(user and user.is_authenticated and scope_for(user).is_staff_member)}
