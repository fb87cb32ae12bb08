"""`{{ text|mask_text }}`: free text with phones, ID numbers and names masked (governance.privacy)."""

from django import template

from governance import privacy

register = template.Library()


@register.filter
def mask_text(value: object) -> str:
    return privacy.mask_text("" if value is None else str(value))
