"""The finder's form (GET: conditions), the policy form and the contact form (POST)."""

from __future__ import annotations

import copy

# The standard library's escape: Django's is the same on a str, wrapped to accept lazy strings and
# mark its result safe, which costs more than the escaping over the hundreds of values a page draws.
from html import escape
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from governance.scoping import Scope
from grids.models import Area, AreaLevel
from residents.finder import AGE_MAX, KEYWORD_MAX, MAX_TAGS, TAG_ALL, TAG_ANY, open_petition_condition_available
from residents.finder_cache import PICKER_DEPTH, picker_areas, tags_offered
from residents.models import Gender, HouseUse, Registration
from residents.models.policy import ContactOutcome


def areas_for_picker(scope: Scope):
    """The areas a reader may narrow the finder to, in tree order (a lazy queryset: read only to
    validate a chosen area; the form's options come from residents.finder_cache.picker_areas, the
    same rule over a per-process copy: 159 streets and communities for the district, a street's
    communities and grids, a community's grids and micro-grids)."""
    areas = Area.objects.only("id", "code", "name", "level", "path").order_by("path")
    if scope.sees_all:
        return areas.filter(level__lte=AreaLevel.COMMUNITY)
    condition = Q(pk__in=[])
    for path, level, _area_id in scope.areas:
        condition |= Q(path__startswith=path, level__lte=level + PICKER_DEPTH)
    return areas.filter(condition)


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        # Indented by depth: a plain <select> keeps the tree readable without JavaScript.
        return "\u3000" * max(0, obj.level - 1) + obj.name


class FinderForm(forms.Form):
    """The conditions of 政策找人. Every field is optional; an empty form finds everybody in scope."""

    q = forms.CharField(
        label=_("Keyword"),
        required=False,
        max_length=KEYWORD_MAX,
        help_text=_("Searches names, addresses and notes."),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, address or note")}),
    )
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=AGE_MAX)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=AGE_MAX)
    gender = forms.ChoiceField(
        label=_("Gender"),
        required=False,
        choices=[("", _("Any")), (Gender.FEMALE, Gender.FEMALE.label), (Gender.MALE, Gender.MALE.label)],
    )
    tags = forms.TypedMultipleChoiceField(
        label=_("Tags"), required=False, coerce=int, choices=(), widget=forms.CheckboxSelectMultiple
    )
    tag_mode = forms.ChoiceField(
        label=_("Tags must match"),
        required=False,
        choices=[(TAG_ANY, _("any of them")), (TAG_ALL, _("all of them"))],
        initial=TAG_ANY,
        widget=forms.RadioSelect,
    )
    registration = forms.ChoiceField(
        label=_("Registration"), required=False, choices=[("", _("Any")), *Registration.choices]
    )
    area = AreaChoiceField(label=_("Area"), required=False, queryset=Area.objects.none(), empty_label=_("All my areas"))
    house_use = forms.MultipleChoiceField(
        label=_("House use"), required=False, choices=HouseUse.choices, widget=forms.CheckboxSelectMultiple
    )
    living_alone = forms.BooleanField(label=_("Only resident of the house"), required=False)
    open_petition = forms.BooleanField(
        label=_("Has an open petition"),
        required=False,
        help_text=_("An open petition from the resident's address or with the resident's phone."),
    )
    not_contacted_since = forms.DateField(
        label=_("Not contacted since"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("No contact about any policy on or after this day."),
    )

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        # The tags offered come from the per-process copy (residents.finder_cache): validating
        # the chosen ones costs no query on every live count.
        self.offered_tags = tags_offered(scope)
        # The fields as this reader's form has them, prepared once per set of tags offered and
        # shared by the forms that offer it (an instance attribute: the class's stay as declared).
        self.base_fields = _prepared_fields(tuple(self.offered_tags))
        super().__init__(*args, **kwargs)
        self.scope = scope
        # The options are drawn from the per-process copy (finder_choices); the queryset only
        # validates a chosen area, so it is built only when one is chosen (~1 ms of ORM otherwise).
        if self.is_bound and self.data.get("area"):
            area = copy.deepcopy(self.fields["area"])
            area.queryset = areas_for_picker(scope)
            self.fields["area"] = area

    def clean_tags(self):
        tags = self.cleaned_data.get("tags")
        if tags is not None and len(tags) > MAX_TAGS:
            raise forms.ValidationError(_("Choose at most %(n)d tags.") % {"n": MAX_TAGS})
        return tags

    def clean_area(self):
        area = self.cleaned_data.get("area")
        if area is not None and not self.scope.sees_area(area):
            raise forms.ValidationError(_("This area is outside your areas."))
        return area

    def clean(self):
        data = super().clean()
        low, high = data.get("age_min"), data.get("age_max")
        if low is not None and high is not None and low > high:
            self.add_error("age_max", _("The upper age must not be below the lower age."))
        return data


class _SharedFields(dict):
    """A form's fields that no instance changes: Django's deep copy of them for every instance
    (forms.BaseForm.__init__) becomes a shallow one. A form that must change a field replaces it
    with its own copy (FinderForm's chosen area)."""

    def __deepcopy__(self, memo: dict) -> dict:
        return dict(self)


_PREPARED_MAX = 256
_prepared: dict[tuple, _SharedFields] = {}


def _prepared_fields(offered_tags: tuple) -> _SharedFields:
    """FinderForm's fields for these tags offered: deep-copying its fields and normalising their
    choices cost ~0.25 ms a form, a sixth of a live count's request."""
    key = (offered_tags, open_petition_condition_available())
    fields = _prepared.get(key)
    if fields is None:
        fields = copy.deepcopy(FinderForm.base_fields)
        fields["tags"].choices = [(str(tag.id), tag.name) for tag in offered_tags]
        if not open_petition_condition_available():
            del fields["open_petition"]
        fields["age_min"].widget.attrs.update({"inputmode": "numeric", "placeholder": "0"})
        fields["age_max"].widget.attrs.update({"inputmode": "numeric", "placeholder": str(AGE_MAX)})
        if len(_prepared) >= _PREPARED_MAX:
            _prepared.clear()
        fields = _prepared[key] = _SharedFields(fields)
    return fields


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Policy name"), max_length=100)
    text = forms.CharField(
        label=_("Policy text"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the policy offers and who it is for, as published."),
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the policy a name."))
        return name


class ContactForm(forms.Form):
    resident = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


def _selected(form: FinderForm, name: str) -> set[str]:
    """The submitted values of a field, as strings (none when the form is unbound)."""
    if not form.is_bound:
        initial = form.fields[name].initial
        return {str(initial)} if initial not in (None, "") else set()
    if hasattr(form.data, "getlist"):
        return {str(value) for value in form.data.getlist(name)}
    value = form.data.get(name)
    return (
        {str(v) for v in value} if isinstance(value, (list, tuple)) else ({str(value)} if value is not None else set())
    )


def finder_choices(form: FinderForm) -> dict[str, Any]:
    """(value, label, chosen) of every option the finder's form draws, from the per-process copies
    of areas and tags (residents.finder_cache): no query.

    The page writes the options itself: rendering a widget per option through Django's form
    templates costs more than the count it sits beside.
    """
    area = _selected(form, "area")
    tags = _selected(form, "tags")
    uses = _selected(form, "house_use")
    mode = _selected(form, "tag_mode") or {TAG_ANY}
    choices = {
        "areas": [
            (str(a.id), "\u3000" * max(0, a.level - 1) + a.name, str(a.id) in area) for a in picker_areas(form.scope)
        ],
        "tags": [(str(tag.id), tag.name, str(tag.id) in tags) for tag in form.offered_tags],
        "house_uses": [(value, str(label), value in uses) for value, label in HouseUse.choices],
        "tag_modes": [(value, str(label), value in mode) for value, label in form.fields["tag_mode"].choices],
    }
    # The same options as HTML, escaped here: a template loop over 160 areas costs more than the count.
    choices["areas_html"] = mark_safe(
        "".join(
            f'<option value="{escape(value)}"{" selected" if chosen else ""}>{escape(label)}</option>'
            for value, label, chosen in choices["areas"]
        )
    )
    for key, name, kind in (
        ("tags", "tags", "checkbox"),
        ("house_uses", "house_use", "checkbox"),
        ("tag_modes", "tag_mode", "radio"),
    ):
        choices[f"{key}_html"] = mark_safe(
            "".join(
                f'<label class="finder-check"><input type="{kind}" name="{name}" value="{escape(value)}"'
                f"{' checked' if chosen else ''}> {escape(label)}</label>"
                for value, label, chosen in choices[key]
            )
        )
    return choices
