"""The patrol's phone forms: each carries its own idempotency key (a new one per page load; the
offline queue in static/js/patrol.js makes a fresh one per queued submission)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from appeals.forms import MultipleImageField, category_choices
from appeals.models import Category
from appeals.selectors import categories_for_intake_cached


class _Keyed(forms.Form):
    client_key = forms.CharField(max_length=80, widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", str(uuid.uuid4()))


class PatrolStartForm(_Keyed):
    grid = forms.ChoiceField(label=_("Grid"))

    def __init__(self, *args: Any, grids: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._grids = {str(g.pk): g for g in grids}
        self.fields["grid"].choices = [(str(g.pk), g.name) for g in grids]
        if len(grids) == 1:
            self.fields["grid"].widget = forms.HiddenInput()
            self.initial.setdefault("grid", str(grids[0].pk))

    def clean_grid(self):
        return self._grids[self.cleaned_data["grid"]]


class PatrolNoteForm(_Keyed):
    place = forms.CharField(label=_("Where"), max_length=200)
    seen = forms.CharField(
        label=_("What you saw"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    done = forms.CharField(
        label=_("What you did"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PatrolReportForm(_Keyed):
    title = forms.CharField(label=_("Problem"), max_length=100)
    description = forms.CharField(label=_("Details"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ChoiceField(label=_("Category"), required=False)
    place = forms.CharField(label=_("Where"), max_length=200, required=False)
    photos = MultipleImageField(label=_("Photos (up to 5, 5 MB each)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._categories = {str(c.pk): c for c in categories_for_intake_cached()}
        self.fields["category"].choices = [("", _("Choose a category")), *category_choices(self._categories.values())]

    def clean_category(self) -> Category | None:
        value = self.cleaned_data.get("category")
        return self._categories.get(value) if value else None


class PatrolCloseForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
