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


class TemplateSelect(forms.Select):
    """A reply template <select>: each option carries its text for static/js/petition-page.js."""

    def __init__(self, *args: Any, texts: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.texts = texts or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.texts:
            option["attrs"]["data-text"] = self.texts[str(value)]
        return option


class ReplyTemplateMixin:
    """A reply form with a template picker: the chosen template's text is the reply when the text
    area is left empty (works without JavaScript); with it, choosing fills the text area."""

    reply_field = "reply"
    reply_required_message = _("Please write the reply to the resident.")

    def _add_template_field(self) -> None:
        from appeals.page_selectors import reply_templates_for

        self._templates = {str(t.pk): t for t in reply_templates_for(self.petition)}
        self.fields[self.reply_field].required = False
        if not self._templates:
            return
        field = forms.ChoiceField(
            label=_("Reply template"),
            required=False,
            choices=[("", _("No template")), *((pk, t.title) for pk, t in self._templates.items())],
            widget=TemplateSelect(texts={pk: t.text for pk, t in self._templates.items()}),
            help_text=_("Without JavaScript: leave the reply empty and the template's text is sent."),
        )
        field.widget.attrs["data-template-for"] = self[self.reply_field].auto_id
        # The picker goes just above the text it fills.
        fields = list(self.fields.items())
        at = [name for name, _f in fields].index(self.reply_field)
        fields.insert(at, ("template", field))
        self.fields = dict(fields)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        text = (data.get(self.reply_field) or "").strip()
        chosen = self._templates.get(data.get("template") or "")
        if not text and chosen is not None:
            text = chosen.text
        if not text and self.reply_field not in self.errors:
            self.add_error(self.reply_field, self.reply_required_message)
        data[self.reply_field] = text
        data.pop("template", None)
        return data


class ReplyForm(ReplyTemplateMixin, PetitionActionForm):
    reply = forms.CharField(label=_("Reply to the resident"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_template_field()


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


class DepartmentReplyForm(ReplyTemplateMixin, DepartmentActionForm):
    reply = forms.CharField(label=_("The department's reply"), widget=forms.Textarea(attrs={"rows": 3}))
    reply_required_message = _("Please write the department's reply.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_template_field()


class ReturnForm(PetitionActionForm):
    reason = forms.CharField(label=_("Reason for returning"), widget=forms.Textarea(attrs={"rows": 2}))
    department = forms.TypedChoiceField(label=_("Returning department"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.petition.status == Status.DISPATCHED:
            self.fields["department"].choices = [(d.pk, d.name) for d in _own_departments_on_case(self)]
        else:
            del self.fields["department"]


INDENT = "\u3000"  # an ideographic space per level below the street


class AreaTreeChoiceField(forms.ModelChoiceField):
    """Areas in path order, each indented under its parent: a tree in one <select>, by code."""

    def label_from_instance(self, obj: Area) -> str:
        depth = max(0, obj.level - AreaLevel.STREET)
        return INDENT * depth + obj.name


class PlaceForm(PetitionActionForm):
    area = AreaTreeChoiceField(label=_("Area"), queryset=Area.objects.none(), to_field_name="code", empty_label=None)
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        areas = Area.objects.filter(level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID])
        field = self.fields["area"]
        field.queryset = scope_for(self.user).filter(areas, path_field="path").order_by("path")
        # The page's filter box and map click (static/js/petition-place.js) find the <select> by these.
        field.widget.attrs.update({"data-searchable": "1", "data-area-select": "1", "size": "8"})
        self.suggestion = None

    def suggest(self) -> None:
        """Preselect the area the address suggests (appeals.page_selectors.place_suggestion)."""
        from appeals.page_selectors import place_suggestion

        self.suggestion = place_suggestion(self.petition, self.fields["area"].queryset)
        if self.suggestion is not None and not self.is_bound:
            self.initial.setdefault("area", self.suggestion.area.code)


class TransferForm(PlaceForm):
    """一键转办: the same area picker, without the unit handling it now."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.petition.handler_area_id:
            self.fields["area"].queryset = self.fields["area"].queryset.exclude(pk=self.petition.handler_area_id)


def department_choices(departments: list[Department], *, suggested: int | None = None) -> list:
    """Departments in <optgroup>s by kind; the suggested one says so in its label."""
    from appeals.page_selectors import department_groups

    def label(department: Department) -> str:
        if department.pk == suggested:
            return _("%(name)s (the category's default)") % {"name": department.name}
        return department.name

    return [(group, [(d.pk, label(d)) for d in members]) for group, members in department_groups(departments)]


class WhistleForm(PetitionActionForm):
    lead = forms.TypedChoiceField(label=_("Lead department"), coerce=int)
    assisting = forms.TypedMultipleChoiceField(
        label=_("Assisting departments"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"data-assisting": "1"}),
    )
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = list(Department.objects.filter(is_active=True).order_by("code"))
        suggested = self.petition.suggested_department_id or (
            self.petition.category.default_department_id if self.petition.category_id else None
        )
        choices = department_choices(departments, suggested=suggested)
        self.fields["lead"].choices = [("", _("Choose the lead department")), *choices]
        self.fields["lead"].widget.attrs.update({"data-searchable": "1", "data-lead": "1"})
        self.fields["assisting"].choices = department_choices(departments)
        if not self.is_bound and suggested:
            self.initial.setdefault("lead", suggested)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lead = data.get("lead")
        if lead is not None and lead in (data.get("assisting") or ()):
            self.add_error("assisting", _("The lead department cannot also be an assisting department."))
        return data


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


class NoteForm(forms.Form):
    """An internal note (内部备注): staff only."""

    text = forms.CharField(
        label=_("Internal note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Seen by staff only, never by the resident."),
    )


class ReplyTemplateForm(forms.Form):
    """A reply template of the district centre's management page (appeals.services.reply_templates)."""

    district = forms.ModelChoiceField(label=_("District"), queryset=Area.objects.none(), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    title = forms.CharField(label=_("Title"), max_length=60)
    text = forms.CharField(label=_("Text"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, districts: list[int], sees_all: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = Area.objects.filter(pk__in=districts).order_by("path")
        self.fields["district"].required = not sees_all
        self.fields["district"].empty_label = _("Every district") if sees_all else None
        self._categories = {str(c.pk): c for c in categories_for_intake()}
        self.fields["category"].choices = [("", _("Any category")), *category_choices(self._categories.values())]
        self.fields["category"].widget.attrs["data-searchable"] = "1"

    def clean_category(self) -> Category | None:
        value = self.cleaned_data.get("category")
        return self._categories.get(value) if value else None


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
