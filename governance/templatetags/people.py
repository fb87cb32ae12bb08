"""`{{ user|person_name }}`: a user's name in Chinese order (governance.identity.person_name)."""

from django import template

from governance.identity import person_name as _person_name

register = template.Library()


@register.filter
def person_name(user) -> str:
    return _person_name(user)
