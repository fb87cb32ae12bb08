"""Reply templates (答复模板): the district centre writes them; staff pick them on the reply forms."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from appeals.models import Category, ReplyTemplate
from governance.errors import Forbidden, NotFound
from governance.scoping import scope_for
from grids.models import Area


def reply_template_save(
    *,
    actor: Any,
    template_id: int | None = None,
    district: Area | None,
    category: Category | None,
    title: str,
    text: str,
    is_active: bool = True,
) -> ReplyTemplate:
    """Create a template, or change the one `template_id` names; only for the actor's districts
    (administrators may also write templates shared by every district: `district=None`)."""
    from appeals.page_selectors import manager_districts

    allowed = set(manager_districts(actor))
    if not allowed:
        raise Forbidden(_("Only the district centre manages reply templates."))
    if district is None and not scope_for(actor).sees_all:
        raise Forbidden(_("Choose one of your districts."))
    if district is not None and district.pk not in allowed:
        raise Forbidden(_("Choose one of your districts."))
    with transaction.atomic():
        if template_id is None:
            template = ReplyTemplate()
        else:
            template = ReplyTemplate.objects.select_for_update().filter(pk=template_id).first()
            if template is None or (template.district_id not in allowed and not scope_for(actor).sees_all):
                raise NotFound(_("No such reply template."))
        template.district = district
        template.category = category
        template.title = title.strip()
        template.text = text.strip()
        template.is_active = is_active
        template.save()
    return template
