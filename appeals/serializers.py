"""Serializers of the petition API: output shapes, the masking rule, and the inputs of each action.

Serializers only parse and render; every write goes through one service in `appeals.services`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from appeals.models import (
    Assignment,
    CallbackResult,
    Category,
    Channel,
    ExtensionRequest,
    HandlingMode,
    NeedType,
    Petition,
    PetitionEvent,
    PetitionPhoto,
    Rating,
    Status,
    Urgency,
)
from appeals.policy import action_slug, actions_for
from appeals.privacy import CONTACT_ACCESS_VALUES, RowMasking, contact_access, contact_fields_for, text_masker
from appeals.selectors import categories_by_code
from governance.accesslog import AccessRecord
from governance.identity import person_name
from governance.inputs import filter_date_error
from governance.models import Department
from governance.privacy import mask_text, reveals_personal_data
from governance.scoping import scope_for
from governance.selectors import area_by_code
from grids.models import Area

STAFF_CHANNELS = (Channel.STAFF, Channel.PATROL)

# --- Personal data ---------------------------------------------------------------------------------


class ContactMaskingMixin:
    """Masks personal data unless the viewer needs it to do the work (appeals.privacy).

    The rule, for reference (docs/permissions.md, "Masking"):

    * the resident who filed the petition sees their own details;
    * the unit that handles the petition now sees them in full, because it must call the resident:
      staff posted at grid or community tier whose area contains the handling area (the grid
      worker of the grid, the community that supervises it), and the staff of the lead department
      while the petition is dispatched to it;
    * everybody else — streets, the district, administrators, assisting departments, other
      grids — sees `138******00` and `张**`.

    Free text (title, description, reply, notes, reasons) is masked with the same rule; every
    unmasked value holding personal data shown to staff is written to the access log.
    """

    contact_fields: tuple[str, ...] = ("contact_phone", "title")

    def to_representation(self, instance: Petition) -> dict[str, Any]:
        data = super().to_representation(instance)  # type: ignore[misc]
        request = self.context.get("request")  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        elsewhere = self.revealed_elsewhere(instance)
        pending = self.context.get("access_log")  # type: ignore[attr-defined]
        data.update(
            contact_fields_for(
                user, instance, self.contact_fields, request=request, revealed_elsewhere=elsewhere, pending=pending
            )
        )
        return data

    def revealed_elsewhere(self, instance: Petition) -> tuple[str, ...]:
        """Other parts of the answer that hold personal data (logged with the fields when shown)."""
        return ()


# --- Output ------------------------------------------------------------------------------------------


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class PetitionListSerializer(ContactMaskingMixin, serializers.ModelSerializer):
    """One row of a list. Reads category, handler_area and handler_department: select_related them."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    category = CodeNameSerializer(read_only=True, allow_null=True)
    handler_area = CodeNameSerializer(read_only=True, allow_null=True)
    handler_department = CodeNameSerializer(read_only=True, allow_null=True)
    is_repeat = serializers.SerializerMethodField()
    contact_phone = serializers.CharField(read_only=True, help_text=_("Masked unless you handle the petition."))
    overdue = serializers.BooleanField(read_only=True, help_text=_("Being handled and past its deadline now."))

    class Meta:
        model = Petition
        fields = [
            "tracking_no",
            "title",
            "status",
            "status_display",
            "channel",
            "tier",
            "category",
            "urgency",
            "handler_area",
            "handler_department",
            "contact_phone",
            "deadline_at",
            "overdue",
            "escalated_on_deadline",
            "supervised",
            "urge_count",
            "repeat_count",
            "is_repeat",
            "created_at",
        ]
        read_only_fields = fields

    def get_is_repeat(self, petition: Petition) -> bool:
        return petition.repeat_of_id is not None

    def to_representation(self, instance: Petition) -> dict[str, Any]:
        # A list renders 50 of these per request: DRF's field-by-field path cost ~0.2 ms a row
        # (bench/scoped_list.py), this one a tenth of it. Subclasses (the detail) keep DRF's path;
        # tests/appeals/test_api_petitions.py checks both give the same row.
        if type(self) is not PetitionListSerializer:
            return super().to_representation(instance)
        return list_row(instance, self.context)


_DATETIME = serializers.DateTimeField()

# What a list row reads, as `Petition.objects.values(...)` names: the list API reads its page as
# these values (`list_rows`), since 50 petitions built as model instances with their category,
# handling area and department cost more than the rest of the request.
LIST_ROW_VALUES = tuple(
    dict.fromkeys(
        [
            "id",
            "tracking_no",
            "title",
            "status",
            "channel",
            "tier",
            "category_id",
            "category__code",
            "category__name",
            "urgency",
            "handler_area_id",
            "handler_area__code",
            "handler_area__name",
            "handler_department_id",
            "handler_department__code",
            "handler_department__name",
            "contact_phone",
            "deadline_at",
            "escalated_on_deadline",
            "supervised",
            "urge_count",
            "repeat_count",
            "repeat_of_id",
            "created_at",
            *CONTACT_ACCESS_VALUES,
        ]
    )
)


class _Values(dict):
    """A row of values read by attribute, for the model's own derived values (`Petition.overdue`)."""

    __getattr__ = dict.__getitem__


def list_row(petition: Petition, context: dict[str, Any]) -> dict[str, Any]:
    """`PetitionListSerializer`'s row, field for field (Meta.fields order), masked and access-logged
    as `ContactMaskingMixin` does (the serializer's context: request, access_log)."""
    request = context.get("request")
    row = _Rows()(_values_of(petition))
    row.update(
        contact_fields_for(
            getattr(request, "user", None),
            petition,
            PetitionListSerializer.contact_fields,
            request=request,
            pending=context.get("access_log"),
        )
    )
    return row


# Rows drawn before, by everything they are drawn from (the language, the time zone, the policy's
# answer for the reader and the row's values): a list read again is mostly the same petitions in the
# same state, and drawing a row costs more than reading it. What changes with the clock (`overdue`)
# is drawn every time, and so is the access log.
LIST_ROWS_KEPT = 4096
_list_rows_kept: dict[tuple, tuple[dict[str, Any], tuple[str, ...]]] = {}


def list_rows(values: Iterable[dict[str, Any]], *, user: Any, access_log: list[AccessRecord] | None) -> list[dict]:
    """`list_row` for a page read as LIST_ROW_VALUES dicts: the same rows, masked and logged alike."""
    masking = RowMasking(user, access_log)
    rows = _Rows()
    page = (get_language(), rows.tz)
    fields = PetitionListSerializer.contact_fields
    result = []
    for value in values:
        access = masking.access(value)
        try:
            key = (page, access, *value.values())
            kept = _list_rows_kept.get(key)
        except TypeError:  # a value that cannot be a key: drawn every time
            key, kept = None, None
        if kept is None:
            row = rows(_Values(value))
            shown, revealed = masking.shown(value, fields, access)
            row.update(shown)
            kept = (row, revealed)
            if key is not None:
                if len(_list_rows_kept) >= LIST_ROWS_KEPT:
                    _list_rows_kept.clear()
                _list_rows_kept[key] = kept
        masking.record(value, kept[1])
        row = dict(kept[0])
        row["overdue"] = Petition.overdue.fget(_Values(value))  # type: ignore[attr-defined]  (changes with the clock)
        result.append(row)
    return result


def list_rows_clear() -> None:
    _list_rows_kept.clear()


def _values_of(petition: Petition) -> _Values:
    """LIST_ROW_VALUES of a petition instance (its related objects loaded)."""
    values = _Values()
    for name in LIST_ROW_VALUES:
        relation, _sep, attribute = name.partition("__")
        value = getattr(petition, relation)
        values[name] = getattr(value, attribute) if attribute and value is not None else value
    return values


def _code_name(values: _Values, relation: tuple[str, str, str]) -> dict[str, str] | None:
    """`CodeNameSerializer` of a related object, from its (id, code, name) values."""
    related_id, code, name = relation
    if values[related_id] is None:
        return None
    return {"code": values[code], "name": values[name]}


_CATEGORY, _HANDLER_AREA, _HANDLER_DEPARTMENT = (
    (f"{relation}_id", f"{relation}__code", f"{relation}__name")
    for relation in ("category", "handler_area", "handler_department")
)


class _Rows:
    """Builds the rows of one page before masking (`contact_fields_for` replaces the contact fields).

    Per page, not per row: the status labels (translated once each) and the time zone of the
    datetimes, which DRF's DateTimeField would look up twice a row.
    """

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        tz = timezone.get_current_timezone() if settings.USE_TZ else None
        iso = (api_settings.DATETIME_FORMAT or "").lower() == ISO_8601
        self.tz = tz if iso else None

    def datetime(self, value: datetime | None) -> str | None:
        """`DateTimeField().to_representation(value)`: ISO 8601 in the current time zone, UTC as "Z"."""
        if value is None or self.tz is None or value.utcoffset() is None:
            return _DATETIME.to_representation(value)
        text = value.astimezone(self.tz).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def __call__(self, values: _Values) -> dict[str, Any]:
        status = values["status"]
        label = self.labels.get(status)
        if label is None:
            label = self.labels[status] = Petition.get_status_display(values)  # type: ignore[arg-type]
        return {
            "tracking_no": values["tracking_no"],
            "title": values["title"],
            "status": status,
            "status_display": label,
            "channel": values["channel"],
            "tier": values["tier"],
            "category": _code_name(values, _CATEGORY),
            "urgency": values["urgency"],
            "handler_area": _code_name(values, _HANDLER_AREA),
            "handler_department": _code_name(values, _HANDLER_DEPARTMENT),
            "contact_phone": values["contact_phone"],
            "deadline_at": self.datetime(values["deadline_at"]),
            "overdue": Petition.overdue.fget(values),  # type: ignore[attr-defined]
            "escalated_on_deadline": values["escalated_on_deadline"],
            "supervised": values["supervised"],
            "urge_count": values["urge_count"],
            "repeat_count": values["repeat_count"],
            "is_repeat": values["repeat_of_id"] is not None,
            "created_at": self.datetime(values["created_at"]),
        }


class EventSerializer(serializers.ModelSerializer):
    type_display = serializers.CharField(source="get_type_display", read_only=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = PetitionEvent
        fields = [
            "type",
            "type_display",
            "actor",
            "from_status",
            "to_status",
            "from_tier",
            "to_tier",
            "note",
            "created_at",
        ]
        read_only_fields = fields

    def get_actor(self, event: PetitionEvent) -> str:
        """Staff see who acted; residents see the role-free label, never a staff member's name."""
        if event.actor_id is None:
            return event.actor_label_display
        if not self.context.get("show_staff_names", False):
            return str(_("staff"))
        return person_name(event.actor)


# Plain strings rather than enums in the schema: "status" already names the petition's choice set.
class AssignmentSerializer(serializers.ModelSerializer):
    department = CodeNameSerializer(read_only=True)
    status = serializers.CharField(read_only=True, help_text="dispatched, reported_in, replied or cancelled")

    class Meta:
        model = Assignment
        fields = ["department", "role", "status", "dispatched_at", "reported_at", "replied_at", "reply"]
        read_only_fields = fields


class ExtensionSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="pending, granted or refused")

    class Meta:
        model = ExtensionRequest
        fields = ["id", "status", "reason", "new_deadline", "requested_at", "decided_at", "decision_note"]
        read_only_fields = fields


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = PetitionPhoto
        fields = ["url", "uploaded_at"]
        read_only_fields = fields

    def get_url(self, photo: PetitionPhoto) -> str:
        return photo.image.url


class PetitionDetailSerializer(PetitionListSerializer):
    """The petition with its timeline, department parts, extension requests and photos.

    Expects `events` (with `actor`), `assignments` (with `department`), `extensions` and `photos`
    prefetched; `timeline` hides staff names from residents.
    """

    contact_fields = ("contact_phone", "contact_name", "title", "description", "reply", "address")
    contact_name = serializers.CharField(read_only=True, help_text=_("Masked unless you handle the petition."))
    # Declared so the schema's enum includes "" (not rated yet): read-only model fields drop allow_blank.
    rating = serializers.ChoiceField(choices=Rating.choices, allow_blank=True, read_only=True)
    timeline = serializers.SerializerMethodField()
    assignments = AssignmentSerializer(many=True, read_only=True)
    extensions = ExtensionSerializer(many=True, read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField()

    class Meta(PetitionListSerializer.Meta):
        fields = [
            *PetitionListSerializer.Meta.fields,
            "description",
            "contact_name",
            "need_type",
            "handling_mode",
            "address",
            "lon",
            "lat",
            "accepted_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "reply",
            "rating",
            "reopen_count",
            "timeline",
            "assignments",
            "extensions",
            "photos",
            "actions",
        ]
        read_only_fields = fields

    def _notes(self, petition: Petition) -> dict[str, list[str]]:
        return {
            "timeline": [event.note for event in petition.events.all()],
            "assignments": [assignment.reply for assignment in petition.assignments.all()],
            "extensions": [x.reason for x in petition.extensions.all()]
            + [x.decision_note for x in petition.extensions.all()],
        }

    def revealed_elsewhere(self, instance: Petition) -> tuple[str, ...]:
        notes = self._notes(instance)
        return tuple(part for part, texts in notes.items() if any(reveals_personal_data(text) for text in texts))

    def to_representation(self, instance: Petition) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        mask = text_masker(contact_access(getattr(request, "user", None), instance))
        for event in data["timeline"]:
            event["note"] = mask(event["note"])
        for assignment in data["assignments"]:
            assignment["reply"] = mask(assignment["reply"])
        for extension in data["extensions"]:
            extension["reason"] = mask(extension["reason"])
            extension["decision_note"] = mask(extension["decision_note"])
        return data

    @extend_schema_field(EventSerializer(many=True))
    def get_timeline(self, petition: Petition) -> list[dict[str, Any]]:
        request = self.context.get("request")
        show = scope_for(getattr(request, "user", None)).is_staff_member
        return EventSerializer(petition.events.all(), many=True, context={"show_staff_names": show}).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, petition: Petition) -> list[str]:
        """What the caller may do now (appeals.policy), as the URL segments of the action endpoints."""
        user = getattr(self.context.get("request"), "user", None)
        return [action_slug(name) for name in actions_for(user or AnonymousUser(), petition)]


class PublicEventSerializer(serializers.ModelSerializer):
    type_display = serializers.CharField(source="get_type_display", read_only=True)

    class Meta:
        model = PetitionEvent
        fields = ["type", "type_display", "to_status", "created_at"]
        read_only_fields = fields


class MasterPetitionSerializer(serializers.ModelSerializer):
    """The petition a merged one was folded into: its progress answers the merged one's resident."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    reply = serializers.SerializerMethodField()

    class Meta:
        model = Petition
        fields = ["tracking_no", "status", "status_display", "resolved_at", "reply"]
        read_only_fields = fields

    def get_reply(self, master: Petition) -> str:
        return mask_text(master.reply)


class PublicPetitionSerializer(serializers.Serializer):
    """The resident's view (`appeals.selectors.petition_resident_view`), exactly as the tracking page shows it.

    No staff names, no internal notes, no extension reasons; free text masked.
    """

    tracking_no = serializers.CharField(source="petition.tracking_no", read_only=True)
    title = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(source="petition.status", choices=Status.choices, read_only=True)
    status_display = serializers.CharField(source="petition.get_status_display", read_only=True)
    category = serializers.CharField(source="petition.category.name", default=None, read_only=True)
    created_at = serializers.DateTimeField(source="petition.created_at", read_only=True)
    resolved_at = serializers.DateTimeField(source="petition.resolved_at", read_only=True, allow_null=True)
    description = serializers.CharField(read_only=True)
    reply = serializers.CharField(read_only=True)
    rating = serializers.ChoiceField(source="petition.rating", choices=Rating.choices, allow_blank=True, read_only=True)
    can_rate = serializers.BooleanField(read_only=True)
    can_reopen = serializers.BooleanField(read_only=True)
    actions = serializers.ListField(child=serializers.CharField(), read_only=True)
    merged_into = MasterPetitionSerializer(source="master", allow_null=True, read_only=True)
    timeline = PublicEventSerializer(many=True, read_only=True)


class ResidentPetitionListSerializer(serializers.Serializer):
    """A row of the resident's own list, as "My petitions" shows it: no handler, tier or internal counters."""

    tracking_no = serializers.CharField(read_only=True)
    title = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    category = serializers.CharField(source="category.name", default=None, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_title(self, petition: Petition) -> str:
        return mask_text(petition.title)


class StatsSerializer(serializers.Serializer):
    """Figures of the caller's scope; rates are fractions in [0, 1], null when nothing to divide."""

    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_tier = serializers.DictField(child=serializers.IntegerField())
    overdue = serializers.IntegerField()
    supervised = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True)
    resolution_rate = serializers.FloatField(allow_null=True)
    satisfaction_rate = serializers.FloatField(allow_null=True)
    with_repeats = serializers.IntegerField(help_text=_("petitions that other complaints repeat"))
    repeats = serializers.IntegerField(help_text=_("petitions linked as a repeat of another"))
    top_categories = serializers.ListField(child=serializers.DictField())


# --- Input ---------------------------------------------------------------------------------------------


def _active_departments():
    return Department.objects.filter(is_active=True)


class PetitionCreatedSerializer(serializers.Serializer):
    """What a create answers: enough to follow the petition, built without another query.

    The full record (timeline included) is at the `Location` header's URL. Declared field by field
    rather than as a ModelSerializer, which builds its fields from the model on every response
    (0.4 ms of the intake request).
    """

    tracking_no = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    title = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class CachedCategoryField(serializers.CharField):
    """A category by code, read from the per-process cache (no query per request)."""

    def to_internal_value(self, data: Any) -> Category:
        code = super().to_internal_value(data)
        category = categories_by_code().get(code)
        if category is None:
            raise serializers.ValidationError(_("No category with this code."))
        return category  # whether it may be chosen is the service's rule


class CachedAreaField(serializers.CharField):
    """An area by code, read through the per-process area cache (no query once it is warm)."""

    def to_internal_value(self, data: Any) -> Area:
        code = super().to_internal_value(data)
        area = area_by_code(code)
        if area is None:
            raise serializers.ValidationError(_("No area with this code."))
        return area


class PetitionCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000)
    category = CachedCategoryField(required=False, allow_null=True, help_text=_("Sub-class code."))
    lon = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    need_type = serializers.ChoiceField(choices=NeedType.choices, default=NeedType.INDIVIDUAL)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    # A string, not an enum, in the schema: "channel" already names the full choice set.
    channel = serializers.CharField(
        required=False,
        help_text=_("Staff only: staff (default) or patrol. Residents always file on the mobile channel."),
    )
    reported_area = CachedAreaField(
        required=False,
        allow_null=True,
        help_text=_("Area code: staff name an area they see; residents name a community."),
    )
    idempotency_key = serializers.CharField(
        max_length=64, required=False, help_text=_("Or the Idempotency-Key header: a retry returns the first petition.")
    )

    def validate_channel(self, value: str) -> str:
        if value not in STAFF_CHANNELS:
            raise serializers.ValidationError(_("Staff enter petitions on the staff or patrol channel."))
        return value


class NoInputSerializer(serializers.Serializer):
    pass


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RequiredNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class HandleSerializer(NoteSerializer):
    handling_mode = serializers.ChoiceField(choices=HandlingMode.choices, required=False, default="")


class ReplySerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=2000)


class DepartmentSerializer(serializers.Serializer):
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=_active_departments(),
        required=False,
        help_text=_("Department code; defaults to the caller's only department."),
    )


class DepartmentReplySerializer(DepartmentSerializer):
    reply = serializers.CharField(max_length=2000)


class ReturnSerializer(DepartmentSerializer):
    reason = serializers.CharField(max_length=2000)


class PlaceSerializer(NoteSerializer):
    area = serializers.SlugRelatedField(slug_field="code", queryset=Area.objects.all())


class WhistleSerializer(NoteSerializer):
    lead_department = serializers.SlugRelatedField(slug_field="code", queryset=_active_departments())
    assisting_departments = serializers.SlugRelatedField(
        slug_field="code", queryset=_active_departments(), many=True, required=False, default=list
    )


class BoundedDateTimeField(serializers.DateTimeField):
    """A moment between EARLIEST_DATE and 2100: year 0001 is a field error, not an OverflowError."""

    def to_internal_value(self, value):
        try:
            moment = super().to_internal_value(value)
        except (OverflowError, ValueError):
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss][+HH:MM]")
        if message := filter_date_error(moment):
            raise serializers.ValidationError(message)
        return moment


class AskExtensionSerializer(serializers.Serializer):
    new_deadline = BoundedDateTimeField()
    reason = serializers.CharField(max_length=2000)


class DecideExtensionSerializer(NoteSerializer):
    request = serializers.IntegerField(help_text=_("The id of the pending extension request."))
    grant = serializers.BooleanField()


class RateSerializer(NoteSerializer):
    rating = serializers.ChoiceField(choices=Rating.choices)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class CallbackSerializer(NoteSerializer):
    result = serializers.ChoiceField(choices=CallbackResult.choices)


class MergeSerializer(NoteSerializer):
    into = serializers.CharField(max_length=20, help_text=_("Tracking number of the master petition."))


class TrackQuerySerializer(serializers.Serializer):
    tracking_no = serializers.CharField(max_length=20)
    phone = serializers.CharField(max_length=20)


class TrackRateSerializer(TrackQuerySerializer, RateSerializer):
    pass


class TrackReopenSerializer(TrackQuerySerializer, ReasonSerializer):
    pass


class ErrorSerializer(serializers.Serializer):
    """Every refusal: `governance.errors.api_exception_handler` renders it."""

    message = serializers.CharField()
    code = serializers.CharField()
    extra = serializers.DictField()


class AssignHandlerSerializer(NoteSerializer):
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=_active_departments(),
        required=False,
        help_text=_("Department code; defaults to the one department you lead on the case."),
    )
    handler = serializers.CharField(
        max_length=150, help_text=_("The handler's user name (a staff member of the department).")
    )
