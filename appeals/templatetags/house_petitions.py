"""The petitions of a house, for the house's record page (residents never import appeals).

`{% house_petitions house %}` lists the petitions the viewer may see (`petitions_visible_to`) filed
from the house's electronic doorplate or at its exact address, newest first, titles masked.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Q

from appeals.models import Channel
from appeals.selectors import petitions_visible_to
from governance.privacy import mask_text

register = template.Library()

HOUSE_PETITIONS_MAX = 20


@register.inclusion_tag("appeals/_house_petitions.html", takes_context=True)
def house_petitions(context: dict[str, Any], house: Any) -> dict[str, Any]:
    condition = Q(address=house.address)
    if house.doorplate_code:
        condition |= Q(channel=Channel.DOORPLATE, external_ref=house.doorplate_code)
    petitions = (
        petitions_visible_to(context["request"].user)
        .filter(condition)
        .only("tracking_no", "title", "status", "created_at")
        .order_by("-created_at")[:HOUSE_PETITIONS_MAX]
    )
    rows = [(p, mask_text(p.title)) for p in petitions]
    return {"rows": rows, "limit": HOUSE_PETITIONS_MAX}
