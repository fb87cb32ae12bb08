from typing import Any

from django.http import HttpRequest

from governance.models import AREA_ROLES
from governance.scoping import scope_for


def staff(request: HttpRequest) -> dict[str, Any]:
    """Whether the user holds a staff post, from the scope cached for the request (no query twice),
    and whether one of the posts is in an area (the community's records are theirs to see)."""
    user = getattr(request, "user", None)
    scope = scope_for(user) if user and user.is_authenticated else None
    return {
        "is_staff_member": bool(scope and scope.is_staff_member),
        "sees_records": bool(scope and (scope.sees_all or scope.roles & AREA_ROLES)),
        # The admin link: administrators only (governance/admin_site.py refuses everyone else).
        "is_administrator": bool(scope and scope.sees_all and user.is_active),
    }
