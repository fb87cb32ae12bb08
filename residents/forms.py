"""Forms of the record pages: parse and check input; the services decide and write."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from residents.models import Gender, HouseUse, Registration, Relation, ResidentStatus, Tag

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ResidentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=30,
        required=False,
        help_text=_("18 characters; the birth date and gender are read from it."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE_WIDGET)
    relation = forms.ChoiceField(label=_("Relation to the householder"), choices=Relation.choices)
    registration = forms.ChoiceField(label=_("Registration"), choices=Registration.choices)
    moved_in_on = forms.DateField(label=_("Moved in"), required=False, widget=DATE_WIDGET)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            keep = _("Leave empty to keep the number on record.")
            self.fields["id_number"].help_text = keep
            self.fields["phone"].help_text = keep


class HouseForm(forms.Form):
    address = forms.CharField(label=_("Address"), max_length=200)
    doorplate_code = forms.CharField(label=_("Doorplate code"), max_length=40, required=False)
    building = forms.ModelChoiceField(label=_("Building"), queryset=None, required=False)
    unit = forms.IntegerField(label=_("Unit"), min_value=1, max_value=99, required=False)
    floor = forms.IntegerField(label=_("Floor"), min_value=-5, max_value=200, required=False)
    room = forms.CharField(label=_("Room"), max_length=20, required=False)
    use = forms.ChoiceField(label=_("Use"), choices=HouseUse.choices)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, buildings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings


class MicrogridChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        grid = obj.parent
        community = grid.parent if grid is not None else None
        return " · ".join(area.name for area in (community, grid, obj) if area is not None)


def microgrid_field() -> MicrogridChoiceField:
    return MicrogridChoiceField(label=_("Micro-grid"), queryset=None, empty_label=_("Choose a micro-grid"))


class NewHouseForm(HouseForm):
    """A new house: its micro-grid is the building's, or chosen here when it has none."""

    field_order = ["microgrid", "address", "doorplate_code", "building", "unit", "floor", "room", "use", "notes"]

    def __init__(self, *args, microgrids=None, **kwargs):
        super().__init__(*args, **kwargs)
        if microgrids is None:
            return
        self.fields["microgrid"] = microgrid_field()
        self.fields["microgrid"].queryset = microgrids
        self.fields["microgrid"].required = False
        self.fields["microgrid"].help_text = _("Empty: the building's micro-grid.")
        self.order_fields(self.field_order)

    def clean(self):
        data = super().clean()
        if "microgrid" in self.fields and not data.get("microgrid") and not data.get("building"):
            self.add_error("microgrid", _("Choose the micro-grid, or a building."))
        return data


class BuildingForm(forms.Form):
    code = forms.CharField(label=_("Building code"), max_length=40)
    name = forms.CharField(label=_("Building name"), max_length=100)
    address = forms.CharField(label=_("Address"), max_length=200)
    units = forms.IntegerField(label=_("Units"), min_value=1, max_value=99)
    floors = forms.IntegerField(label=_("Floors"), min_value=1, max_value=200)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class LeaveForm(forms.Form):
    status = forms.ChoiceField(
        label=_("What happened"),
        choices=[
            (ResidentStatus.MOVED_AWAY, ResidentStatus.MOVED_AWAY.label),
            (ResidentStatus.DECEASED, ResidentStatus.DECEASED.label),
        ],
    )
    on = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(_("The date lies in the future."))
        return on


class TagForm(forms.Form):
    tag = forms.ModelChoiceField(
        label=_("Tag"), queryset=Tag.objects.none(), widget=forms.Select(attrs={"class": "form-select form-select-sm"})
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )

    def __init__(self, *args, tags=None, **kwargs):
        super().__init__(*args, **kwargs)
        if tags is not None:
            self.fields["tag"].queryset = tags


class NewBuildingForm(BuildingForm):
    field_order = ["microgrid", "code", "name", "address", "units", "floors", "notes"]

    def __init__(self, *args, microgrids=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["microgrid"] = microgrid_field()
        self.fields["microgrid"].queryset = microgrids
        self.order_fields(self.field_order)


class MoveForm(forms.Form):
    house = forms.CharField(
        label=_("Moving to (house)"),
        max_length=200,
        help_text=_("Its doorplate code or its full address, as on record."),
        widget=forms.TextInput(attrs={"list": "move-houses", "autocomplete": "off"}),
    )
    on = forms.DateField(label=_("Moved in on"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, houses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.houses = houses

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(_("The date lies in the future."))
        return on

    def clean_house(self):
        from residents.models import normalize_address

        typed = self.cleaned_data["house"].strip()
        found = list(self.houses.filter(doorplate_code=typed)[:1]) or list(
            self.houses.filter(address_key=normalize_address(typed))[:1]
        )
        if not found:
            raise forms.ValidationError(
                _("No house “%(house)s” in your areas: type its doorplate code or its address as on record.")
                % {"house": typed}
            )
        return found[0]


class NewTagForm(forms.Form):
    name = forms.CharField(label=_("Tag name"), max_length=50)
    description = forms.CharField(label=_("Description"), required=False, max_length=200)
    sensitive = forms.BooleanField(label=_("Sensitive (special group: shown with extra care)"), required=False)
    community = forms.ModelChoiceField(label=_("Community"), queryset=None, required=False)

    def __init__(self, *args, communities=None, district=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.only = None
        self.fields["community"].queryset = communities
        self.fields["community"].empty_label = _("District-wide") if district else None
        self.fields["community"].required = not district
        if not district and communities is not None and len(communities) == 1:
            self.only = communities[0]
            self.fields["community"].initial = self.only
            self.fields["community"].widget = forms.HiddenInput()
            self.fields["community"].required = False

    def clean_community(self):
        return self.cleaned_data.get("community") or self.only
