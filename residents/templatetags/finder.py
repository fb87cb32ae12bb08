"""`{% resident_contacts resident %}`: a resident's policy contacts, for the resident's record page."""

from __future__ import annotations

from django import template

from governance.privacy import shown_text
from residents.finder import resident_contacts as contacts_for

register = template.Library()

# The record page shows the latest contacts; older ones stay in the policy pages and the export.
CONTACTS_SHOWN = 20


@register.inclusion_tag("residents/_contacts.html", takes_context=True)
def resident_contacts(context, resident):
    """The notes masked unless the page shows the resident in full (`revealed`: the page logged it)."""
    user = context["request"].user
    contacts = list(contacts_for(user, resident)[:CONTACTS_SHOWN])
    for contact in contacts:
        contact.shown_note = shown_text(contact.note, unmasked=bool(context.get("revealed")))
    return {"contacts": contacts}
