"""Personal data of petitions: who sees it unmasked, how it is masked, and the log of every view.

The rule (docs/permissions.md):

* the resident who filed the petition sees their own details;
* the unit that handles the petition now sees them in full, because it must call the resident:
  staff posted at grid or community tier whose area contains the handling area (the grid worker of
  the grid, the community that supervises it), and the staff of the lead department while the
  petition is dispatched to it;
* everybody else — streets, the district, administrators, assisting departments, other grids —
  sees `138****8000` and `张**`.

Every unmasked view by staff is logged on the "appeals.pii" logger (user, petition, field).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from appeals.models import Petition
from appeals.policy import HANDLER, MASKED, OWN, contact_access

pii_logger = logging.getLogger("appeals.pii")

__all__ = ["HANDLER", "MASKED", "OWN", "contact_access", "contact_fields_for", "mask_name", "mask_phone"]


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    return f"{name[0]}{'*' * (len(name) - 1)}" if name else ""


MASKERS = {"contact_phone": mask_phone, "contact_name": mask_name}


def contact_fields_for(user: Any, petition: Petition, fields: Iterable[str]) -> dict[str, str]:
    """The contact fields as `user` may see them; logs each unmasked value shown to staff."""
    access = contact_access(user, petition)
    shown: dict[str, str] = {}
    for field in fields:
        value = getattr(petition, field)
        if access == MASKED:
            shown[field] = MASKERS[field](value)
            continue
        shown[field] = value
        if access == HANDLER and value:
            pii_logger.info(
                "unmasked %s of petition %s shown to user %s",
                field,
                petition.tracking_no,
                user.pk,
                extra={"user_id": user.pk, "petition": petition.tracking_no, "field": field},
            )
    return shown
