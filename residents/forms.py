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


class BuildingForm(forms.Form):
    code = forms.CharField(label=_("Building code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
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
