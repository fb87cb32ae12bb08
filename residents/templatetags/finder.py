"""`{% resident_contacts resident %}`: a resident's policy contacts, for the resident's record page."""

from __future__ import annotations

from django import template

from residents.finder import resident_contacts as contacts_for

register = template.Library()

# The record page shows the latest contacts; older ones stay in the policy pages and the export.
CONTACTS_SHOWN = 20


@register.inclusion_tag("residents/_contacts.html", takes_context=True)
def resident_contacts(context, resident):
    user = context["request"].user
    return {"contacts": list(contacts_for(user, resident)[:CONTACTS_SHOWN])}
