"""Query-string filters of the petition list and the statistics endpoint."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from appeals.forms import CategoryFilterSelect
from appeals.models import (
    TIMED_STATUSES,
    Assignment,
    AssignmentStatus,
    Channel,
    ExtensionRequest,
    ExtensionStatus,
    Petition,
    Status,
    Tier,
    overdue_condition,
)
from appeals.policy import todo_filter
from appeals.selectors import (
    CLASS_PREFIX,
    WORKLIST_TABS,
    area_condition,
    category_filter_choices,
    text_search_condition,
    todo_condition,
    worklist_tab_condition,
)
from governance.inputs import filter_date_error
from governance.scoping import scope_for
from governance.workcalendar import CALENDAR_TZ


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
        user = getattr(self.request, "user", None)
        if value:  # the same rows, shaped for the open petitions' indexes
            return queryset.filter(todo_condition(user))
        return queryset.exclude(todo_filter(user))

    def filter_repeat(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        if value == RepeatChoice.HAS_REPEATS:
            return queryset.filter(repeat_count__gt=0)
        return queryset.filter(repeat_of__isnull=False)


# --- The staff worklist (the HTML list page) ----------------------------------------------------

# What a workbench tile counts beyond a status: the list narrows by the same condition, so the
# tile's number is the number of rows its link lists (tests/appeals/test_workbench_tiles.py).
PENDING_EXTENSION = "extension"
PENDING_CHOICES = [(PENDING_EXTENSION, _("Extension requests to decide"))]
DUE_TODAY = "today"
DUE_CHOICES = [(DUE_TODAY, _("Due today"))]


def pending_extension_condition(user: Any) -> Q:
    """Petitions with an extension request waiting for a decision that `user` did not ask for.

    The policy's 待办 (`todo_filter`) holds these petitions for the tiers above; this narrows a
    list (or a count) of 待办 to them, the requester's own requests left out as the policy does.
    """
    pending = ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING)
    if getattr(user, "pk", None):
        pending = pending.exclude(requested_by_id=user.pk)
    return Q(pk__in=pending.values("petition_id"))


def due_today_condition(now: datetime) -> Q:
    """Open petitions whose deadline falls later today (Beijing time): not yet overdue."""
    tomorrow = timezone.localtime(now, CALENDAR_TZ).date() + timedelta(days=1)
    return Q(status__in=sorted(TIMED_STATUSES), deadline_at__gt=now, deadline_at__lt=_day_start(tomorrow))


class CheckedFilter(django_filters.BooleanFilter):
    """A checkbox: ticked narrows the list, unticked (absent) means no filter."""

    field_class = forms.BooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", KeptCheckbox(attrs={"class": "form-check-input"}))
        super().__init__(*args, **kwargs)

    def filter(self, queryset: QuerySet[Petition], value: bool | None) -> QuerySet[Petition]:
        return super().filter(queryset, True) if value else queryset


class KeptRender:
    """A widget whose HTML is kept per process, by name, value, attributes and language.

    The worklist draws ten filter widgets on every page through Django's widget templates (a few
    milliseconds); their HTML depends only on these and on choices fixed in code (never the
    category choices: CategoryFilterSelect keeps those by the categories' version).
    """

    MAX_KEPT = 2048
    _kept: dict[tuple, str] = {}

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> str:
        merged = {**self.attrs, **(attrs or {})}  # type: ignore[attr-defined]
        key = (
            type(self).__name__,
            get_language(),
            name,
            str(value),
            tuple((k, str(v)) for k, v in sorted(merged.items())),
        )
        html = KeptRender._kept.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)  # type: ignore[misc]
            if len(KeptRender._kept) >= self.MAX_KEPT:
                KeptRender._kept.clear()
            KeptRender._kept[key] = html
        return html


class KeptSelect(KeptRender, forms.Select):
    pass


class KeptTextInput(KeptRender, forms.TextInput):
    pass


class KeptDateInput(KeptRender, forms.DateInput):
    pass


class KeptCheckbox(KeptRender, forms.CheckboxInput):
    pass


class KeptHidden(KeptRender, forms.HiddenInput):
    pass


# A request naming only these is a tab's plain view (its pages, order and page size): it needs no
# filter form, only the tab's own condition.
PLAIN_PARAMS = frozenset({"tab", "page", "sort", "per_page"})
_TAB_VALUES = frozenset(value for value, _label in WORKLIST_TABS)


def plain_tab(data: QueryDict) -> str | None:
    """The tab of a query naming no filter (an empty tab is 待办), else None (a filter, or a tab
    the form would refuse: the form then says why)."""
    if any(name not in PLAIN_PARAMS for name in data):
        return None
    tab = data.get("tab", "")
    if not tab:
        return "todo"
    return tab if tab in _TAB_VALUES else None


def _select(**attrs: str) -> forms.Select:
    return KeptSelect(attrs={"class": "form-select form-select-sm", **attrs})


class WorklistFilter(django_filters.FilterSet):
    """What the staff list page narrows by. The scope is the queryset's (`petitions_visible_to`);
    every filter here only narrows it, so no choice can widen what the user sees.

    The area must lie inside the user's subtree (`governance.scoping`): another area is refused
    with a message, never applied. The text search looks in the title, the description and the
    address (served by trigram indexes on PostgreSQL: migration 0015) or matches a tracking number.
    """

    tab = django_filters.ChoiceFilter(choices=WORKLIST_TABS, method="filter_tab", empty_label=None, widget=KeptHidden)
    q = django_filters.CharFilter(
        method="filter_text",
        label=_("Search"),
        max_length=100,
        widget=KeptTextInput(
            attrs={
                "class": "form-control form-control-sm",
                "type": "search",
                "placeholder": _("Title, text, address or number"),
            }
        ),
    )
    status = django_filters.ChoiceFilter(
        choices=Status.choices, label=_("Status"), empty_label=_("Any status"), widget=_select()
    )
    category = django_filters.ChoiceFilter(
        method="filter_category",
        label=_("Category"),
        empty_label=None,
        widget=CategoryFilterSelect(attrs={"class": "form-select form-select-sm"}),
    )
    channel = django_filters.ChoiceFilter(
        choices=Channel.choices, label=_("Channel"), empty_label=_("Any channel"), widget=_select()
    )
    tier = django_filters.TypedChoiceFilter(
        choices=[("", _("Any tier")), *Tier.choices], coerce=int, empty_value=None, label=_("Tier"), widget=_select()
    )
    area = django_filters.CharFilter(method="filter_area", label=_("Area"), max_length=32, widget=KeptHidden)
    created_from = django_filters.DateFilter(
        method="filter_created_from",
        label=_("Submitted from"),
        widget=KeptDateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    created_to = django_filters.DateFilter(
        method="filter_created_to",
        label=_("Submitted to"),
        widget=KeptDateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    overdue = CheckedFilter(method="filter_overdue", label=_("Overdue"))
    supervised = CheckedFilter(field_name="supervised", label=_("Supervised"))
    # 分派: the dispatched cases whose open department part the user holds (the home's tile).
    handler = django_filters.ChoiceFilter(
        choices=[("me", _("Assigned to me"))], method="filter_handler", label=_("Case handler"), widget=KeptHidden
    )
    # Set by the workbench's tiles' links (no control of their own on the page: a chip clears them).
    pending = django_filters.ChoiceFilter(
        choices=PENDING_CHOICES, method="filter_pending", label=_("Waiting for"), widget=KeptHidden
    )
    due = django_filters.ChoiceFilter(choices=DUE_CHOICES, method="filter_due", label=_("Due"), widget=KeptHidden)

    class Meta:
        model = Petition
        fields: list[str] = []

    def __init__(
        self, data: QueryDict | None = None, queryset: QuerySet[Petition] | None = None, *, request: Any = None
    ) -> None:
        # django-filter's own __init__ deep-copies every filter, then its form every field, widget
        # and choice list (~2 ms a page): here both wait until something asks for them (`filters`,
        # `form`). A tab's plain view (`plain_tab`) filters by the tab alone and never does.
        self.is_bound = data is not None
        self.data = data if data is not None else QueryDict()
        self.queryset = queryset if queryset is not None else Petition.objects.all()
        self.request = request
        self.form_prefix = None
        self.area_chosen = None
        self.plain_tab = plain_tab(self.data)

    @cached_property
    def filters(self) -> dict[str, django_filters.Filter]:  # type: ignore[override]
        filters = copy.deepcopy(self.base_filters)
        for filter_ in filters.values():
            filter_.model = Petition
            filter_.parent = self
        # Every list page builds this: the per-process category cache saves a query each time.
        filters["category"].extra["choices"] = category_filter_choices()
        return filters

    @property
    def shown_tab(self) -> str:
        """The tab shown: the plain view's, else the form's when valid, else 待办."""
        if self.plain_tab is not None:
            return self.plain_tab
        return (self.form.cleaned_data.get("tab") if self.form.is_valid() else "") or "todo"

    @property
    def has_errors(self) -> bool:
        return self.plain_tab is None and bool(self.form.errors)

    # --- validation that needs the user ---------------------------------------------------------

    @property
    def user(self) -> Any:
        return getattr(self.request, "user", None)

    @property
    def qs(self) -> QuerySet[Petition]:
        if not hasattr(self, "_qs"):
            if self.plain_tab is not None:
                self._qs = self.filter_tab(self.queryset.all(), "tab", self.plain_tab)
                return self._qs
            self._check_area()
            self._check_dates()
        return super().qs

    def _check_area(self) -> None:
        code = (self.data.get("area") or "").strip() if self.data else ""
        if not code or "area" in self.form.errors:
            return
        from grids.models import Area

        area = Area.objects.filter(code=code).only("id", "code", "name", "level", "path").first()
        if area is None or not scope_for(self.user).sees_area(area):
            self.form.add_error("area", _("This area is not in your jurisdiction."))
            return
        self.area_chosen = area

    def _check_dates(self) -> None:
        if not self.form.is_valid():
            return
        start, end = self.form.cleaned_data.get("created_from"), self.form.cleaned_data.get("created_to")
        for name, day in (("created_from", start), ("created_to", end)):
            if day is not None and (message := filter_date_error(_day_start(day))):
                self.form.add_error(name, message)
                return
        if start and end and end < start:
            self.form.add_error("created_to", _("The end date is before the start date."))

    # --- the filters ----------------------------------------------------------------------------

    def filter_queryset(self, queryset: QuerySet[Petition]) -> QuerySet[Petition]:
        # Invalid input narrows nothing and is reported; the tab still applies (its default is 待办).
        data = self.form.cleaned_data
        queryset = self.filter_tab(queryset, "tab", data.get("tab") or "todo")
        for name, value in data.items():
            if name == "tab" or name in self.form.errors:
                continue
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_tab(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        return queryset.filter(worklist_tab_condition(value or "todo", self.user))

    def filter_text(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(text_search_condition(value))

    def filter_category(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        if not value:
            return queryset
        kind, _sep, pk = value.partition(":")
        if kind == CLASS_PREFIX.rstrip(":"):
            return queryset.filter(category__parent_id=int(pk))
        return queryset.filter(category_id=int(value))

    def filter_area(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        area = self.area_chosen
        if area is None:
            return queryset
        return queryset.filter(area_condition(area))

    def filter_created_from(self, queryset: QuerySet[Petition], name: str, value: date | None) -> QuerySet[Petition]:
        return queryset.filter(created_at__gte=_day_start(value)) if value else queryset

    def filter_created_to(self, queryset: QuerySet[Petition], name: str, value: date | None) -> QuerySet[Petition]:
        return queryset.filter(created_at__lt=_day_start(value + timedelta(days=1))) if value else queryset

    def filter_overdue(self, queryset: QuerySet[Petition], name: str, value: bool) -> QuerySet[Petition]:
        return queryset.filter(overdue_condition(timezone.now())) if value else queryset

    def filter_handler(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        if value != "me":
            return queryset
        held = Assignment.objects.filter(
            handler_id=getattr(self.user, "pk", None),
            status__in=[AssignmentStatus.DISPATCHED, AssignmentStatus.REPORTED_IN],
        )
        return queryset.filter(status=Status.DISPATCHED, pk__in=held.values("petition_id"))

    def filter_pending(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        return queryset.filter(pending_extension_condition(self.user)) if value == PENDING_EXTENSION else queryset

    def filter_due(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        return queryset.filter(due_today_condition(timezone.now())) if value == DUE_TODAY else queryset

    @property
    def chips(self) -> list[Any]:
        """The labels of the valid hidden filters in use (the page shows each with a clear link)."""
        if self.plain_tab is not None or not self.form.is_valid():
            return []
        chosen = []
        for name in ("pending", "due", "handler"):
            if value := self.form.cleaned_data.get(name):
                chosen.append(dict(self.filters[name].extra["choices"]).get(value, value))
        return chosen


def _day_start(day: date) -> datetime:
    """Midnight of a Beijing-time day."""
    return datetime.combine(day, time.min, tzinfo=CALENDAR_TZ)
