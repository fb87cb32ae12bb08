"""`user|may_import`: whether the navigation offers the import (records' write rule, residents.imports.jobs)."""

from django import template

register = template.Library()


@register.filter
def may_import(user) -> bool:
    from residents.imports.jobs import may_import as allowed

    return bool(getattr(user, "is_authenticated", False)) and allowed(user)
