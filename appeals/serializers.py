"""Serializers of the petition API: output shapes, the masking rule, and the inputs of each action.

Serializers only parse and render; every write goes through one service in `appeals.services`.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appeals.lifecycle import allowed_actions
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
from appeals.privacy import contact_fields_for
from appeals.selectors import categories_by_code
from governance.models import Department
from governance.scoping import scope_for
from grids.models import Area
from grids.selectors import area_by_code

STAFF_CHANNELS = (Channel.STAFF, Channel.PATROL)

# Lifecycle action names (appeals.lifecycle.TRANSITIONS) → the URL segment of the API action.
# Actions only the system takes (route, auto_escalate, remind, lead_reply) have no endpoint.
API_ACTIONS = {
    "accept": "accept",
    "handle": "handle",
    "note_progress": "note-progress",
    "reply": "reply",
    "escalate": "escalate",
    "return": "return",
    "place": "place",
    "whistle": "whistle",
    "report_in": "report-in",
    "department_reply": "department-reply",
    "ask_extension": "ask-extension",
    "decide_extension": "decide-extension",
    "urge": "urge",
    "supervise": "supervise",
    "rate": "rate",
    "reopen": "reopen",
    "callback": "callback",
    "close": "close",
    "merge": "merge",
}


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
      grids — sees `138****8000` and `张**`.

    Every unmasked view by staff is logged on the "appeals.pii" logger (user, petition, field).
    """

    contact_fields: tuple[str, ...] = ("contact_phone",)

    def to_representation(self, instance: Petition) -> dict[str, Any]:
        data = super().to_representation(instance)  # type: ignore[misc]
        request = self.context.get("request")  # type: ignore[attr-defined]
        data.update(contact_fields_for(getattr(request, "user", None), instance, self.contact_fields))
        return data


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
        return list_row(instance, getattr(self.context.get("request"), "user", None))


_DATETIME = serializers.DateTimeField()


def _code_name(obj: Any) -> dict[str, str] | None:
    return None if obj is None else {"code": obj.code, "name": obj.name}


def list_row(petition: Petition, user: Any) -> dict[str, Any]:
    """`PetitionListSerializer`'s row, field for field (Meta.fields order), with contact masking."""
    row = {
        "tracking_no": petition.tracking_no,
        "title": petition.title,
        "status": petition.status,
        "status_display": petition.get_status_display(),
        "channel": petition.channel,
        "tier": petition.tier,
        "category": _code_name(petition.category),
        "urgency": petition.urgency,
        "handler_area": _code_name(petition.handler_area),
        "handler_department": _code_name(petition.handler_department),
        "contact_phone": petition.contact_phone,
        "deadline_at": _DATETIME.to_representation(petition.deadline_at) if petition.deadline_at else None,
        "overdue": petition.overdue,
        "supervised": petition.supervised,
        "urge_count": petition.urge_count,
        "repeat_count": petition.repeat_count,
        "is_repeat": petition.repeat_of_id is not None,
        "created_at": _DATETIME.to_representation(petition.created_at) if petition.created_at else None,
    }
    row.update(contact_fields_for(user, petition, PetitionListSerializer.contact_fields))
    return row


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
            return event.actor_label
        if not self.context.get("show_staff_names", False):
            return str(_("staff"))
        return event.actor.get_full_name() or event.actor.get_username()


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

    contact_fields = ("contact_phone", "contact_name")
    contact_name = serializers.CharField(read_only=True, help_text=_("Masked unless you handle the petition."))
    timeline = serializers.SerializerMethodField()
    assignments = AssignmentSerializer(many=True, read_only=True)
    extensions = ExtensionSerializer(many=True, read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField()

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
            "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(EventSerializer(many=True))
    def get_timeline(self, petition: Petition) -> list[dict[str, Any]]:
        request = self.context.get("request")
        show = scope_for(getattr(request, "user", None)).is_staff_member
        return EventSerializer(petition.events.all(), many=True, context={"show_staff_names": show}).data

    def get_allowed_actions(self, petition: Petition) -> list[str]:
        """The API actions the lifecycle allows from this status (roles are checked when acting)."""
        return [API_ACTIONS[action] for action in allowed_actions(petition.status) if action in API_ACTIONS]


class PublicEventSerializer(serializers.ModelSerializer):
    type_display = serializers.CharField(source="get_type_display", read_only=True)

    class Meta:
        model = PetitionEvent
        fields = ["type", "type_display", "to_status", "created_at"]
        read_only_fields = fields


class PublicPetitionSerializer(serializers.ModelSerializer):
    """What a resident sees with the tracking number and phone: no staff names, no internal notes."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    category = serializers.CharField(source="category.name", default=None, read_only=True)
    timeline = PublicEventSerializer(source="events", many=True, read_only=True)
    can_rate = serializers.SerializerMethodField()
    can_reopen = serializers.SerializerMethodField()

    class Meta:
        model = Petition
        fields = [
            "tracking_no",
            "title",
            "status",
            "status_display",
            "category",
            "created_at",
            "resolved_at",
            "reply",
            "rating",
            "can_rate",
            "can_reopen",
            "timeline",
        ]
        read_only_fields = fields

    def get_can_rate(self, petition: Petition) -> bool:
        return petition.status == Status.RESOLVED and not petition.rating

    def get_can_reopen(self, petition: Petition) -> bool:
        return petition.status == Status.RESOLVED and petition.rating in ("", Rating.UNSATISFIED)


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


class PetitionCreatedSerializer(serializers.ModelSerializer):
    """What a create answers: enough to follow the petition, built without another query.

    The full record (timeline included) is at the `Location` header's URL.
    """

    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Petition
        fields = ["tracking_no", "status", "status_display", "channel", "title", "created_at"]
        read_only_fields = fields


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


class AskExtensionSerializer(serializers.Serializer):
    new_deadline = serializers.DateTimeField()
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
