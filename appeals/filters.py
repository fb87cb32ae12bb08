"""Query-string filters of the petition list and the statistics endpoint."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from appeals.models import Channel, Petition, Status, Tier, overdue_condition
from appeals.policy import todo_filter
from governance.inputs import filter_date_error


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment within the dates this system can hold (year 0001 is a 400, not a 500)."""

    def to_python(self, value):
        if value == "":  # given but empty: a client bug, not "no bound"
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            moment = super().to_python(value)
        except (OverflowError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if moment is None:
            return None
        if message := filter_date_error(moment):
            raise forms.ValidationError(message, code="out_of_range")
        try:
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 (a 500 before).
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field(
    {"type": "string", "format": "date-time", "description": "ISO 8601, from 2000-01-01 to before 2100-01-01"}
)
class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class RepeatChoice:
    HAS_REPEATS = "has_repeats"
    IS_REPEAT = "is_repeat"
    CHOICES = [(HAS_REPEATS, _("has repeat complaints")), (IS_REPEAT, _("is a repeat complaint"))]


class StrictBooleanField(forms.Field):
    """true/false (or 1/0); anything else is refused instead of meaning "no filter"."""

    widget = forms.TextInput
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).lower()]
        except KeyError:
            raise ValidationError(_("Give true or false."), code="invalid") from None


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class PetitionPeriodFilter(django_filters.FilterSet):
    """The submission window; the statistics use only this part."""

    created_after = BoundedIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("submitted at or after (ISO 8601)")
    )
    created_before = BoundedIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("submitted before (ISO 8601)")
    )

    class Meta:
        model = Petition
        fields: list[str] = []


class PetitionFilter(PetitionPeriodFilter):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label=_("status (repeat for several)"))
    tier = django_filters.TypedChoiceFilter(choices=Tier.choices, coerce=int, label=_("tier"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))
    category = django_filters.CharFilter(field_name="category__code", label=_("category code (sub-class)"))
    handler_area = django_filters.CharFilter(field_name="handler_area__code", label=_("handling area code"))
    handler_department = django_filters.CharFilter(
        field_name="handler_department__code", label=_("handling department code")
    )
    overdue = StrictBooleanFilter(method="filter_overdue", label=_("overdue now (past the deadline, open)"))
    escalated_on_deadline = StrictBooleanFilter(label=_("escalated on deadline"))
    supervised = StrictBooleanFilter(label=_("supervised"))
    repeat = django_filters.ChoiceFilter(
        choices=RepeatChoice.CHOICES, method="filter_repeat", label=_("repeat complaints")
    )
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("title contains"))
    todo = django_filters.BooleanFilter(method="filter_todo", label=_("to do: what you can act on now"))

    class Meta:
        model = Petition
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet[Petition], name: str, value: bool | None) -> QuerySet[Petition]:
        if value is None:
            return queryset
        condition = overdue_condition(timezone.now())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_todo(self, queryset: QuerySet[Petition], name: str, value: bool | None) -> QuerySet[Petition]:
        if value is None:
            return queryset
        condition = todo_filter(getattr(self.request, "user", None))
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_repeat(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        if value == RepeatChoice.HAS_REPEATS:
            return queryset.filter(repeat_count__gt=0)
        return queryset.filter(repeat_of__isnull=False)
