"""The import's forms: the upload, and one column choice per field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from residents.imports import mapping as m
from residents.imports.reading import MAX_UPLOAD_BYTES
from residents.models.imports import ImportKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("The file holds"), choices=ImportKind.choices, widget=forms.RadioSelect)
    community = forms.ModelChoiceField(label=_("Community"), queryset=None, empty_label=None)
    file = forms.FileField(label=_("File (.xlsx or .csv)"))

    def __init__(self, *args: Any, communities: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.csv"
        self.fields["community"].widget.attrs["class"] = "form-select"
        self.fields["file"].widget.attrs["class"] = "form-control"
        self.fields["kind"].initial = ImportKind.RESIDENT

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB; split it and import the parts.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


class MappingForm(forms.Form):
    """One select per field of the kind, offering the file's columns."""

    def __init__(self, *args: Any, kind: str, header: list[str], initial_mapping: dict[str, str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        columns = [("", _("— not imported —"))] + [(h, h) for h in header if h]
        self.specs = m.field_specs(kind)
        for spec in self.specs:
            field = forms.ChoiceField(
                label=spec.label, choices=columns, required=False, initial=initial_mapping.get(spec.name, "")
            )
            field.widget.attrs["class"] = "form-select form-select-sm"
            field.spec = spec
            self.fields[spec.name] = field

    def mapping(self) -> dict[str, str]:
        return {name: value for name, value in self.cleaned_data.items() if value}
