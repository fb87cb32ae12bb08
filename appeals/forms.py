"""HTML forms of the petition pages. They only parse input; every write goes through a service."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from itertools import groupby
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from appeals.models import (
    Assignment,
    AssignmentStatus,
    CallbackResult,
    Category,
    HandlingMode,
    Petition,
    Rating,
    Status,
)
from appeals.selectors import categories_for_intake, categories_version
from governance.identity import normalize_phone
from governance.inputs import filter_date_error
from governance.models import Department
from governance.scoping import scope_for
from grids.models import Area, AreaLevel

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 5 * 1024 * 1024
# Leading bytes of the image formats phones produce; the declared content type alone is not trusted.
IMAGE_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Up to MAX_PHOTOS images, each at most MAX_PHOTO_BYTES, checked by their leading bytes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("You can attach at most %(n)s photos.") % {"n": MAX_PHOTOS}, code="too_many_photos"
            )
        errors = []
        for upload in files:
            super().clean(upload, initial)
            if upload.size > MAX_PHOTO_BYTES:
                errors.append(
                    forms.ValidationError(
                        _("“%(name)s” is larger than %(mb)s MB.")
                        % {"name": upload.name, "mb": MAX_PHOTO_BYTES // 2**20},
                        code="photo_too_large",
                    )
                )
            elif (extension := _image_extension(upload)) is None or (
                upload.content_type or ""
            ).lower() not in IMAGE_TYPES:
                errors.append(
                    forms.ValidationError(
                        _("“%(name)s” is not a photo (JPEG, PNG, GIF, WebP or HEIC).") % {"name": upload.name},
                        code="not_an_image",
                    )
                )
            else:
                # Stored under a name of our making: the extension decides how the file is served.
                upload.name = f"{uuid.uuid4().hex}.{extension}"
        if errors:
            raise forms.ValidationError(errors)
        return files


def _image_extension(upload: UploadedFile) -> str | None:
    """The file extension of an image upload, from its leading bytes; None if it is not an image."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "heic"
    return None


def category_choices(categories: Iterable[Category]) -> list:
    """Sub-classes grouped under their class, for a <select> with <optgroup>s."""
    ordered = sorted(categories, key=lambda c: (c.parent.sort_order, c.parent.code, c.sort_order, c.code))
    return [
        (parent.name, [(str(c.pk), c.name) for c in children])
        for parent, children in groupby(ordered, key=lambda c: c.parent)
    ]


class PhoneField(forms.CharField):
    """A phone in the one normal form (governance.identity); the service validates it."""

    def to_python(self, value: Any) -> str:
        return normalize_phone(super().to_python(value))


class PetitionForm(forms.Form):
    """The resident's mobile form. Works without JavaScript; the location button is optional."""

    title = forms.CharField(label=_("Title"), max_length=100)
    description = forms.CharField(
        label=_("What is the problem?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5})
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Area.objects.none(), required=False, empty_label=_("I don't know")
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    lon = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    contact_name = forms.CharField(label=_("Your name (optional)"), max_length=50, required=False)
    contact_phone = PhoneField(
        label=_("Phone"), max_length=20, widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
    )
    photos = MultipleImageField(label=_("Photos (up to 5, 5 MB each)"), required=False)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())
        self._categories = {str(c.pk): c for c in categories_for_intake()}
        self.fields["category"].choices = [("", _("Choose a category")), *category_choices(self._categories.values())]
        self.fields["community"].queryset = Area.objects.filter(level=AreaLevel.COMMUNITY).order_by("path")

    def clean_category(self) -> Category | None:
        value = self.cleaned_data.get("category")
        return self._categories.get(value) if value else None


class TrackForm(forms.Form):
    tracking_no = forms.CharField(label=_("Tracking number"), max_length=20)
    contact_phone = PhoneField(
        label=_("Phone given when filing"), max_length=20, widget=forms.TextInput(attrs={"type": "tel"})
    )


class RateForm(forms.Form):
    rating = forms.ChoiceField(label=_("How satisfied are you?"), choices=Rating.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Comment (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("What is still wrong?"), widget=forms.Textarea(attrs={"rows": 3}))


# --- Staff ---------------------------------------------------------------------------------------


class CategoryFilterSelect(forms.Select):
    """The list filter's category <select>, its HTML kept per process.

    Every list page draws ~130 options through the widget templates (3 ms); the HTML depends only
    on the categories, the chosen one and the language.
    """

    MAX_KEPT = 512
    _kept: dict[tuple, str] = {}

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> str:
        key = (categories_version(), get_language(), name, str(value), tuple(sorted((attrs or {}).items())))
        html = self._kept.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(self._kept) >= self.MAX_KEPT:
                self._kept.clear()
            self._kept[key] = html
        return html


class PetitionActionForm(forms.Form):
    """Base of the action forms: knows the petition and the acting user."""

    def __init__(self, *args: Any, petition: Petition, user: Any, **kwargs: Any) -> None:
        self.petition = petition
        self.user = user
        super().__init__(*args, **kwargs)


def _note(label: Any = None, *, required: bool = False) -> forms.CharField:
    return forms.CharField(label=label or _("Note"), required=required, widget=forms.Textarea(attrs={"rows": 2}))


class EmptyActionForm(PetitionActionForm):
    pass


class NoteActionForm(PetitionActionForm):
    note = _note()


class RequiredNoteActionForm(PetitionActionForm):
    note = _note(_("What was done"), required=True)


class EscalateForm(PetitionActionForm):
    note = _note(_("Why it goes up a tier"), required=True)


class HandleForm(PetitionActionForm):
    handling_mode = forms.ChoiceField(label=_("Handling mode"), required=False)
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["handling_mode"].choices = [("", _("Keep the current mode")), *HandlingMode.choices]


class ReplyForm(PetitionActionForm):
    reply = forms.CharField(label=_("Reply to the resident"), widget=forms.Textarea(attrs={"rows": 4}))


def _own_departments_on_case(form: PetitionActionForm) -> list[Department]:
    scope = scope_for(form.user)
    active = Assignment.objects.filter(petition=form.petition).exclude(status=AssignmentStatus.CANCELLED)
    if not scope.sees_all:
        active = active.filter(department_id__in=scope.department_ids)
    return [a.department for a in active.select_related("department").order_by("role", "department__code")]


class DepartmentActionForm(PetitionActionForm):
    department = forms.TypedChoiceField(label=_("Department"), coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [(d.pk, d.name) for d in _own_departments_on_case(self)]


class DepartmentReplyForm(DepartmentActionForm):
    reply = forms.CharField(label=_("The department's reply"), widget=forms.Textarea(attrs={"rows": 3}))


class ReturnForm(PetitionActionForm):
    reason = forms.CharField(label=_("Reason for returning"), widget=forms.Textarea(attrs={"rows": 2}))
    department = forms.TypedChoiceField(label=_("Returning department"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.petition.status == Status.DISPATCHED:
            self.fields["department"].choices = [(d.pk, d.name) for d in _own_departments_on_case(self)]
        else:
            del self.fields["department"]


class PlaceForm(PetitionActionForm):
    area = forms.ModelChoiceField(label=_("Area"), queryset=Area.objects.none())
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        areas = Area.objects.filter(level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID])
        self.fields["area"].queryset = scope_for(self.user).filter(areas, path_field="path").order_by("path")


class TransferForm(PlaceForm):
    """一键转办: the same area picker, without the unit handling it now."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.petition.handler_area_id:
            self.fields["area"].queryset = self.fields["area"].queryset.exclude(pk=self.petition.handler_area_id)


class WhistleForm(PetitionActionForm):
    lead = forms.ModelChoiceField(label=_("Lead department"), queryset=Department.objects.none())
    assisting = forms.ModelMultipleChoiceField(
        label=_("Assisting departments"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = Department.objects.filter(is_active=True).order_by("code")
        self.fields["lead"].queryset = departments
        self.fields["assisting"].queryset = departments
        if not self.is_bound and self.petition.suggested_department_id:
            self.initial.setdefault("lead", self.petition.suggested_department_id)


class AskExtensionForm(PetitionActionForm):
    new_deadline = forms.DateTimeField(
        label=_("New deadline"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def clean_new_deadline(self):
        value = self.cleaned_data["new_deadline"]
        if message := filter_date_error(value):
            raise forms.ValidationError(message)
        return value


class DecideExtensionForm(PetitionActionForm):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("grant", _("Grant")), ("refuse", _("Refuse"))], widget=forms.RadioSelect
    )
    note = _note()


class CallbackForm(PetitionActionForm):
    result = forms.ChoiceField(label=_("Result"), choices=CallbackResult.choices)
    note = _note()


class ReopenActionForm(PetitionActionForm):
    reason = forms.CharField(label=_("What the resident says is still wrong"), widget=forms.Textarea(attrs={"rows": 2}))


class RateActionForm(PetitionActionForm):
    rating = forms.ChoiceField(label=_("How satisfied are you?"), choices=Rating.choices, widget=forms.RadioSelect)
    note = _note()


class MergeForm(PetitionActionForm):
    into = forms.CharField(label=_("Merge into tracking number"), max_length=20)
    note = _note()


class AssignHandlerForm(PetitionActionForm):
    """分派: the leader picks one of the department's staff (and the department, if he leads several here)."""

    department = forms.TypedChoiceField(label=_("Department"), coerce=int)
    handler = forms.TypedChoiceField(label=_("Case handler"), coerce=int)
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from appeals.services.assigning import department_staff, staff_name

        super().__init__(*args, **kwargs)
        led = scope_for(self.user).led_department_ids
        parts = list(
            Assignment.objects.filter(
                petition=self.petition,
                department_id__in=led,
                status__in=[AssignmentStatus.DISPATCHED, AssignmentStatus.REPORTED_IN],
            )
            .select_related("department")
            .order_by("role", "department__code")
        )
        if len(parts) > 1:
            self.fields["department"].choices = [(part.department_id, part.department.name) for part in parts]
        else:
            del self.fields["department"]
        holders = {part.handler_id for part in parts}
        self.fields["handler"].choices = [("", _("Choose…"))] + [
            (user.pk, f"{staff_name(user)}（{_('holds it now')}）" if user.pk in holders else staff_name(user))
            for user in department_staff([part.department_id for part in parts])
        ]
