"""`field|change_label:change`: the name of a changed field in a record's history, in the reader's language."""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

register = template.Library()

# Entries of the history that are not a model field.
EXTRA_LABELS = {
    "tag": _("tag"),
    "resident_in": _("a resident moved in (from, record no.)"),
    "resident_out": _("a resident moved out (record no., to)"),
}

# Where a model field's own name reads wrong for a person (a resident's name is 姓名, not 名称).
RECORD_LABELS = {("resident", "name"): _("Name"), ("resident", "moved_out_on"): _("Moved out or died on")}


@register.filter
def change_label(field: str, change) -> str:
    from residents.models import Building, House, Resident, Tag

    if field in EXTRA_LABELS:
        return str(EXTRA_LABELS[field])
    if (change.record_type, field) in RECORD_LABELS:
        return str(RECORD_LABELS[change.record_type, field])
    model = {"resident": Resident, "house": House, "building": Building, "tag": Tag}.get(change.record_type)
    if model is None:
        return field
    try:
        return str(model._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field
