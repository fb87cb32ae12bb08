"""Petitions (诉求/议题/工单) and everything recorded about their life.

The status column is written only by the transition services in `appeals.services`; the allowed
moves are the data in `appeals.lifecycle.TRANSITIONS`. Every change appends a `PetitionEvent`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.derived import DerivedCharField
from governance.models import Department
from governance.workcalendar import TimeUnit
from grids.models import Area


class Channel(models.TextChoices):
    MOBILE = "mobile", _("Mobile form")
    HOTLINE = "hotline", _("12345 hotline")
    PATROL = "patrol", _("Grid patrol")
    DOORPLATE = "doorplate", _("Doorplate QR code")
    STAFF = "staff", _("Staff entry")
    OPEN311 = "open311", _("Open311")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    INTAKE = "intake", _("Awaiting placement")
    ASSIGNED = "assigned", _("Awaiting acceptance")
    ACCEPTED = "accepted", _("Accepted")
    PROCESSING = "processing", _("Being handled")
    DISPATCHED = "dispatched", _("Dispatched to departments")
    RETURNED = "returned", _("Returned")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged")


OPEN_STATUSES = frozenset(
    {
        Status.SUBMITTED,
        Status.INTAKE,
        Status.ASSIGNED,
        Status.ACCEPTED,
        Status.PROCESSING,
        Status.DISPATCHED,
        Status.RETURNED,
    }
)
# The states whose deadline the sweeper watches.
TIMED_STATUSES = frozenset({Status.ASSIGNED, Status.ACCEPTED, Status.PROCESSING, Status.DISPATCHED})


def overdue_condition(now) -> Q:
    """Petitions overdue at `now`: being handled and past their deadline, or escalated on deadline
    to the district, where the clock stops because no tier is above."""
    return Q(status__in=TIMED_STATUSES) & (
        Q(deadline_at__lte=now) | Q(deadline_at__isnull=True, escalated_on_deadline=True)
    )


class Tier(models.IntegerChoices):
    GRID = 1, _("Grid")
    COMMUNITY = 2, _("Community")
    STREET = 3, _("Street")
    DISTRICT = 4, _("District")


class HandlingMode(models.TextChoices):
    IMMEDIATE = "immediate", _("At once (即办)")
    FAST = "fast", _("Fast (快办)")
    SPLIT = "split", _("Split (分办)")
    JOINT = "joint", _("Joint (联办)")
    TOP = "top", _("Top leader (顶格办)")


class NeedType(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual need")
    COMMON = "common", _("Common need")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class CategoryKind(models.TextChoices):
    EVENT = "event", _("Event (GB/T 30428)")
    COMPONENT = "component", _("Component (GB/T 30428)")
    LIVELIHOOD = "livelihood", _("Livelihood service")


class Category(models.Model):
    """A class (parent is null) or sub-class of the taxonomy; petitions use sub-classes."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=16, choices=CategoryKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("class"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    default_department = models.ForeignKey(
        Department, verbose_name=_("default department"), null=True, blank=True, on_delete=models.SET_NULL
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


class TimeLimit(models.Model):
    """How long a tier has for a petition of a sub-class and handling mode, from `effective_from` on.

    Lookup falls back from (category, mode, tier) to (category, any mode, tier) to
    (no category, mode, tier) to (no category, any mode, tier). Rows are history: a changed limit
    is a new row with a later `effective_from`, and a clock started at a moment uses the row in
    force then.
    """

    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE, related_name="limits"
    )
    handling_mode = models.CharField(_("handling mode"), max_length=16, choices=HandlingMode.choices, blank=True)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices)
    accept_amount = models.DecimalField(_("time to accept"), max_digits=6, decimal_places=2)
    accept_unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices)
    handle_amount = models.DecimalField(_("time to handle"), max_digits=6, decimal_places=2)
    handle_unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices)
    effective_from = models.DateTimeField(_("effective from"), default=timezone.now)

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "handling_mode", "tier", "effective_from"], name="appeals_timelimit_unique"
            ),
            models.UniqueConstraint(
                fields=["handling_mode", "tier", "effective_from"],
                condition=Q(category__isnull=True),
                name="appeals_timelimit_unique_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'} · {self.handling_mode or '*'} · {self.get_tier_display()}"


def new_access_token() -> str:
    """256 random bits: the secret in the resident's tracking link, unguessable unlike number + phone."""
    return secrets.token_urlsafe(32)


_STATUS_LABELS = dict(Status.choices)
_TIER_LABELS = dict(Tier.choices)


# The open petitions' indexes (see Petition.Meta): the states 待办 can hold (a test keeps this equal
# to appeals.selectors.TODO_STATUSES) and the columns its branches and the area scopes read.
OPEN_INDEX_STATUSES = ["intake", "assigned", "accepted", "processing", "dispatched", "returned", "resolved"]
OPEN_INDEX_INCLUDE = [
    "status",
    "tier",
    "handler_area",
    "deadline_at",
    "escalated_on_deadline",
    "supervised",
    "rating",
    "area_path",
    "street",
    "community",
    "grid",
    "microgrid",
]


class Petition(models.Model):
    tracking_no = models.CharField(_("tracking number"), max_length=20, unique=True, editable=False)
    # The resident's way in from the text message (/petitions/t/<token>/); unique index serves it.
    access_token = models.CharField(max_length=64, unique=True, default=new_access_token, editable=False)
    # Client-supplied key making submission idempotent (a retried POST returns the first petition).
    idempotency_key = models.CharField(max_length=80, unique=True, null=True, blank=True, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # The 12345 order number or the Open311 client's token; unique per channel.
    external_ref = models.CharField(_("external reference"), max_length=64, blank=True)

    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="petitions",
    )
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    # The blind index of the contact phone (the one a resident's encrypted phone is found by):
    # what the policy finder's "has an open petition" compares residents' phones with, in SQL.
    contact_phone_hash = DerivedCharField(
        max_length=32, source="contact_phone", compute="governance.crypto.phone_blind_index", keyed=True
    )

    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=2000)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="petitions"
    )
    need_type = models.CharField(_("need type"), max_length=16, choices=NeedType.choices, default=NeedType.INDIVIDUAL)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    handling_mode = models.CharField(
        _("handling mode"), max_length=16, choices=HandlingMode.choices, default=HandlingMode.FAST
    )

    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # The address's matching key (a house's `address_key` for the same address): the finder's
    # "has an open petition" finds the residents of the petition's house by it, in SQL.
    address_key = DerivedCharField(max_length=200, source="address", compute="residents.models.normalize_address")
    # An area named at intake (the submitter's community, a staff member's own area): where the
    # petition waits for placement when neither point nor address locates it.
    reported_area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("reported area")
    )
    # The areas the petition lies in, one column per level; their (column, created_at) indexes
    # below serve the scoped lists.
    microgrid = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("micro-grid"),
        db_index=False,
    )
    grid = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    street = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    # Path of the deepest known area. Scoped lists use the level columns above; the path serves a
    # district scope and the admin (`area_path LIKE '<scope>%'`).
    area_path = models.CharField(max_length=255, blank=True, editable=False)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, null=True, blank=True)
    handler_area = models.ForeignKey(
        Area, verbose_name=_("handling area"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handler_department = models.ForeignKey(
        Department,
        verbose_name=_("handling department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="petitions",
    )
    suggested_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    clock_started_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    # The deadline sweeper escalated it at least once since it was last placed (at the district,
    # where there is no tier above, its clock stops). "Overdue now" is `overdue` below.
    escalated_on_deadline = models.BooleanField(_("escalated on deadline"), default=False)
    supervised = models.BooleanField(_("supervised"), default=False)
    urge_count = models.PositiveSmallIntegerField(default=0)

    # The first acceptance and the first response; each round's are in HandlingRound. Never cleared.
    accepted_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    # The current round's rating (cleared on reopening); every rating stays in PetitionRating.
    rating = models.CharField(_("rating"), max_length=16, choices=Rating.choices, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    # How many handling rounds (HandlingRound) the petition has had; the current one has this number.
    round_count = models.PositiveSmallIntegerField(default=0)

    # Repeat complaints point at the first petition of their cluster; merging makes it the master.
    repeat_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="repeats", verbose_name=_("repeat of")
    )
    repeat_count = models.PositiveIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged", verbose_name=_("merged into")
    )

    # A background sweep could not process the row (see appeals.services.sweeps): what failed and
    # when. Sweeps skip the row until the mark is cleared; the district sees it in the staff list.
    sweep_error = models.TextField(_("sweep error"), blank=True)
    sweep_failed_at = models.DateTimeField(_("sweep failed at"), null=True, blank=True)

    created_at = models.DateTimeField(_("submitted at"), db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        indexes = [
            # Scoped lists of one area (appeals.selectors.petitions_visible_to): newest first.
            models.Index(fields=["street", "-created_at"], name="appeals_pet_street_recent"),
            models.Index(fields=["community", "-created_at"], name="appeals_pet_community_recent"),
            models.Index(fields=["grid", "-created_at"], name="appeals_pet_grid_recent"),
            models.Index(fields=["microgrid", "-created_at"], name="appeals_pet_microgrid_recent"),
            # Subtree queries by path (the admin, reports): `area_path LIKE 'prefix%'`. PostgreSQL serves a
            # LIKE prefix from a btree only with the pattern operator class (the database collation
            # is not "C"); other backends ignore opclasses. The columns the monthly report joins
            # petitions for (their units and department) ride along (PostgreSQL): a district's report
            # reads this index instead of the million petitions' rows, once per figure statement.
            models.Index(
                fields=["area_path", "-created_at"],
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
                include=["id", "street", "community", "grid", "microgrid", "handler_department"],
                name="appeals_pet_scope_units",
            ),
            # The deadline sweeper: open rows whose deadline passed, oldest first.
            models.Index(
                fields=["deadline_at"],
                name="appeals_pet_deadline_open",
                condition=Q(status__in=["assigned", "accepted", "processing", "dispatched"], deadline_at__isnull=False),
            ),
            models.Index(
                fields=["remind_at"],
                name="appeals_pet_remind_open",
                condition=Q(status__in=["assigned", "accepted", "processing", "dispatched"], remind_at__isnull=False),
            ),
            # Pending-work marker: the routing sweeper finds rows the broker dropped.
            models.Index(fields=["created_at"], name="appeals_pet_unrouted", condition=Q(status="submitted")),
            # Repeat detection: recent open petitions of one category.
            models.Index(fields=["category", "created_at"], name="appeals_pet_category_recent"),
            # Queues: what one handler area or department has to do.
            models.Index(fields=["handler_area", "status"], name="appeals_pet_handler_area"),
            models.Index(fields=["handler_department", "status"], name="appeals_pet_handler_dept"),
            # The upper tiers' 待办 (appeals.policy.todo_filter): open petitions that are overdue or
            # supervised, newest first; late ones are served by appeals_pet_deadline_open.
            models.Index(
                fields=["-created_at"],
                name="appeals_pet_attention",
                condition=Q(
                    status__in=["intake", "assigned", "accepted", "processing", "dispatched", "returned"],
                )
                & (Q(escalated_on_deadline=True) | Q(supervised=True)),
            ),
            # 待办 (appeals.policy.todo_filter) of the district, streets and communities: every branch
            # is an open petition or a resolved one rated unsatisfied (~3 % of the table). Newest
            # first, per street and community, with the columns the branches and the scopes read:
            # the capped count is an index-only scan and a page stops after a few entries.
            # PostgreSQL proves the predicate only from a top-level `status IN (…)`, which
            # appeals.selectors.todo_condition adds.
            *(
                models.Index(
                    fields=[*level, "-created_at", "-id"],
                    name=f"appeals_pet_open_{name}",
                    include=OPEN_INDEX_INCLUDE,
                    condition=Q(status__in=OPEN_INDEX_STATUSES),
                )
                for name, level in (("recent", []), ("street", ["street"]), ("community", ["community"]))
            ),
            # 政策找人's "has an open petition" (appeals.resident_links): the open petitions of a scope
            # with the address key and phone digest residents are matched by, read from the index alone.
            models.Index(
                fields=["area_path"],
                opclasses=["varchar_pattern_ops"],
                name="appeals_pet_open_contacts",
                include=["address_key", "contact_phone_hash", "street", "community", "grid", "microgrid"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
            ),
            # A resident's own petitions.
            models.Index(fields=["submitter", "-created_at"], name="appeals_pet_submitter"),
            # The staff list's "sweep failures" tab: rows a sweep could not process, newest first.
            models.Index(
                fields=["-sweep_failed_at"], name="appeals_pet_sweep_failed", condition=Q(sweep_failed_at__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="appeals_petition_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"]) | Q(resolved_at__isnull=False),
                name="appeals_petition_resolved_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="appeals_petition_merged_has_master",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "merged"])
                | Q(handler_area__isnull=False)
                | Q(handler_department__isnull=False),
                name="appeals_petition_routed_has_handler",
            ),
            models.UniqueConstraint(
                fields=["channel", "external_ref"], condition=~Q(external_ref=""), name="appeals_petition_external_ref"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_no} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def overdue(self) -> bool:
        """Past its deadline now and still being handled (the rows `overdue_condition` selects)."""
        if self.status not in TIMED_STATUSES:
            return False
        if self.deadline_at is None:
            return self.escalated_on_deadline
        return self.deadline_at <= timezone.now()

    # Django's generated get_FOO_display() hashes every (lazy) choice label on each call, 0.3 ms; a
    # list page calls these for every row. Same answers from a dict built once.
    def get_status_display(self) -> str:
        return str(_STATUS_LABELS.get(self.status, self.status))

    def get_tier_display(self) -> str | None:
        label = _TIER_LABELS.get(self.tier)
        return str(label) if label is not None else self.tier


class PetitionPhoto(models.Model):
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("photo"), upload_to="petitions/%Y/%m/")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")


class EventType(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ROUTED = "routed", _("Routed")
    PLACED = "placed", _("Placed")
    ACCEPTED = "accepted", _("Accepted")
    HANDLING = "handling", _("Handling started")
    PROGRESS = "progress", _("Progress noted")
    REPLIED = "replied", _("Replied")
    RESOLVED = "resolved", _("Resolved")
    RATED = "rated", _("Rated")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    ESCALATED = "escalated", _("Escalated")
    AUTO_ESCALATED = "auto_escalated", _("Escalated on deadline")
    REMINDED = "reminded", _("Deadline reminder")
    WHISTLED = "whistled", _("Dispatched to departments (吹哨)")
    REPORTED_IN = "reported_in", _("Department reported in (报到)")
    DEPARTMENT_REPLIED = "department_replied", _("Department replied")
    RETURNED = "returned", _("Returned")
    REROUTED = "rerouted", _("Re-routed")
    EXTENSION_ASKED = "extension_asked", _("Extension asked")
    EXTENSION_GRANTED = "extension_granted", _("Extension granted")
    EXTENSION_REFUSED = "extension_refused", _("Extension refused")
    URGED = "urged", _("Urged (催办)")
    SUPERVISED = "supervised", _("Supervised (督办)")
    MERGED = "merged", _("Merged into another")
    ABSORBED = "absorbed", _("Absorbed a duplicate")
    REPEAT_LINKED = "repeat_linked", _("Linked as a repeat")
    CALLBACK = "callback", _("Call-back recorded")
    # Staff wrote an internal note (PetitionNote): the audit row, never shown to residents.
    NOTE_ADDED = "note_added", _("Internal note written")
    HANDLER_ASSIGNED = "handler_assigned", _("Assigned to a handler (分派)")


# Who acted when no user did: the stored code → what people read.
ACTOR_LABELS = {
    "system": _("System"),
    "resident": _("Resident"),
    "12345": _("12345 hotline"),
    "hotline": _("12345 hotline"),
}
# The lifecycle table reads the two enumerations above; the event constraint is generated from it.
from appeals.lifecycle import event_status_condition  # noqa: E402


class PetitionEvent(models.Model):
    """Append-only: the petition's timeline and audit trail.

    Every row names a legal move of `appeals.lifecycle.TRANSITIONS` (a check constraint generated
    from the table), the deadline in force when the step was taken and the one after it, and, for
    a step that ends the clock in force, whether it came in time.
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=24, choices=EventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who acted when there is no user: "system", "resident", "hotline", an Open311 client name.
    actor_label = models.CharField(max_length=50, blank=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    from_tier = models.PositiveSmallIntegerField(null=True, blank=True)
    to_tier = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    deadline_in_force = models.DateTimeField(_("deadline in force"), null=True, blank=True)
    deadline_after = models.DateTimeField(_("deadline after the step"), null=True, blank=True)
    # Set on the steps that end the clock in force (accept, resolve, escalate, whistle, return…):
    # whether they came by `deadline_in_force`. Null where no clock ran or the step ends none.
    on_time = models.BooleanField(_("on time"), null=True, blank=True)

    class Meta:
        verbose_name = _("petition event")
        verbose_name_plural = _("petition events")
        ordering = ["created_at", "id"]
        indexes = [
            # A petition's timeline.
            models.Index(fields=["petition", "created_at"], name="appeals_event_timeline"),
            # Reports: counts of one event type per month.
            models.Index(fields=["type", "created_at"], name="appeals_event_type_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=event_status_condition(), name="appeals_event_legal_move"),
        ]

    @property
    def actor_label_display(self) -> str:
        """The label translated for display: 系统, 居民, 12345热线; an Open311 client's own name as is."""
        return str(ACTOR_LABELS.get(self.actor_label, self.actor_label))


class HandlingRound(models.Model):
    """One unit's turn with a petition: from the moment it must accept it until it passes it on.

    A round starts whenever an acceptance clock starts (routing, placing, escalation, reopening)
    and ends when the next starts, or at a return or a merge. Its timestamps are written once and
    never cleared, so "accepted within the limit" can be asked of any past round.
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField()
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    handler_area = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    start_event = models.CharField(max_length=24, choices=EventType.choices)
    accept_due_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The round's first response: acceptance, a department reporting in, or the reply.
    responded_at = models.DateTimeField(null=True, blank=True)
    handle_due_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_event = models.CharField(max_length=24, choices=EventType.choices, blank=True)

    class Meta:
        verbose_name = _("handling round")
        verbose_name_plural = _("handling rounds")
        constraints = [
            models.UniqueConstraint(fields=["petition", "number"], name="appeals_round_unique_number"),
        ]
        indexes = [
            # Response rate: rounds whose acceptance fell due in a month.
            models.Index(fields=["accept_due_at"], name="appeals_round_accept_due"),
        ]


class RatingSource(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    CALLBACK = "callback", _("Call-back")


class PetitionRating(models.Model):
    """Every rating of every round, by the resident or taken at a call-back; the newest is marked."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="ratings")
    round_number = models.PositiveSmallIntegerField()
    rating = models.CharField(_("rating"), max_length=16, choices=Rating.choices)
    source = models.CharField(_("source"), max_length=16, choices=RatingSource.choices)
    rated_at = models.DateTimeField(_("rated at"))
    is_latest = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.UniqueConstraint(fields=["petition"], condition=Q(is_latest=True), name="appeals_rating_one_latest"),
        ]
        indexes = [
            # Satisfaction and resolution rates: ratings given in a month.
            models.Index(fields=["rated_at"], name="appeals_rating_rated_at"),
        ]

    @property
    def actor_label_display(self) -> str:
        """The label translated for display: 系统, 居民, 12345热线; an Open311 client's own name as is."""
        return str(ACTOR_LABELS.get(self.actor_label, self.actor_label))


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead (主办)")
    ASSIST = "assist", _("Assisting (协办)")


class AssignmentStatus(models.TextChoices):
    DISPATCHED = "dispatched", _("Dispatched")
    REPORTED_IN = "reported_in", _("Reported in")
    REPLIED = "replied", _("Replied")
    CANCELLED = "cancelled", _("Cancelled")


# Every part but a cancelled one: the department still sees the petition.
LIVE_PARTS = (AssignmentStatus.DISPATCHED, AssignmentStatus.REPORTED_IN, AssignmentStatus.REPLIED)


class Assignment(models.Model):
    """One department's part of a whistled (吹哨) petition."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=8, choices=AssignmentRole.choices)
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.DISPATCHED)
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    dispatched_at = models.DateTimeField()
    reported_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(blank=True)
    # Who in the department holds the part (分派给经办人): set by the department's leader.
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handled_assignments",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The petition's `created_at`, copied here by the database (a trigger on each side, migration
    # 0021): a department's newest petitions come from the index below, so its list reads a page of
    # entries instead of every petition the department ever had (appeals.selectors.petitions_listed_for).
    petition_created_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [
            # A department's queue.
            models.Index(fields=["department", "status"], name="appeals_assign_dept_status"),
            # A department's live parts newest first: the order of the lists (created_at, id descending).
            models.Index(
                fields=["department", "-petition_created_at", "-petition"],
                name="appeals_assign_dept_recent",
                condition=Q(status__in=LIVE_PARTS),
            ),
            # A department's scope (appeals.selectors._dispatched_to): its live parts' petition ids
            # from the index alone.
            models.Index(
                fields=["department", "petition"], name="appeals_assign_dept_live", condition=~Q(status="cancelled")
            ),
            # A handler's open parts ("assigned to me": the home tile and the worklist's handler=me).
            models.Index(
                fields=["handler", "petition"],
                name="appeals_assign_handler_open",
                condition=Q(status__in=["dispatched", "reported_in"]),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "department"],
                condition=~Q(status="cancelled"),
                name="appeals_assignment_one_active_per_department",
            ),
            models.UniqueConstraint(
                fields=["petition"],
                condition=Q(role="lead") & ~Q(status="cancelled"),
                name="appeals_assignment_one_lead",
            ),
        ]


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class ExtensionRequest(models.Model):
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="extensions")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    reason = models.TextField(_("reason"))
    # The deadline in force when the extension was asked, and the one asked for.
    old_deadline = models.DateTimeField(_("deadline when asked"), null=True, blank=True)
    new_deadline = models.DateTimeField(_("requested deadline"))
    status = models.CharField(max_length=8, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(
                fields=["petition"], condition=Q(status="pending"), name="appeals_extension_one_pending"
            ),
        ]


class CallbackResult(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")
    UNREACHABLE = "unreachable", _("Could not be reached")


class Callback(models.Model):
    """A call-back (回访) to the submitter of an unrated resolved petition."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="callbacks")
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    called_at = models.DateTimeField()
    result = models.CharField(max_length=16, choices=CallbackResult.choices)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("call-back")
        verbose_name_plural = _("call-backs")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """The outbox: written in the transaction that caused it, sent afterwards by a worker."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    phone = models.CharField(max_length=20, blank=True)
    petition = models.ForeignKey(Petition, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)
    message = models.TextField()
    status = models.CharField(max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The in-app bell: when the recipient opened or dismissed it (independent of the SMS sending).
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The sender's queue: pending rows due now.
            models.Index(fields=["next_attempt_at"], name="appeals_notify_due", condition=Q(status="pending")),
            # The bell: a user's newest first, and their unread count.
            models.Index(fields=["recipient", "-created_at"], name="appeals_notify_inbox"),
            models.Index(fields=["recipient"], name="appeals_notify_unread", condition=Q(read_at__isnull=True)),
        ]


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class HotlineImportJob(models.Model):
    """One uploaded 12345 export, imported all-or-nothing by a worker (docs/hotline.md).

    The upload is kept in the row (≤ 10 MB) so any worker can read it, and dropped once the job
    ends. `report` is `ImportReport.as_dict()`; a job that ends `failed` stored no petition.
    """

    status = models.CharField(max_length=8, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED)
    file_name = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=4, blank=True)
    content = models.BinaryField(blank=True, default=b"")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="hotline_import_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    phase = models.CharField(max_length=16, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        verbose_name = _("hotline import job")
        verbose_name_plural = _("hotline import jobs")
        indexes = [
            # The sweeper's queue: jobs the broker never delivered, oldest first.
            models.Index(fields=["created_at"], name="appeals_hotline_job_queued", condition=Q(status="queued")),
        ]


class Patrol(models.Model):
    """巡查日志: one walk of a grid worker through their grid, with notes and problems found."""

    grid = models.ForeignKey(Area, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="patrols")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("grid worker"), on_delete=models.PROTECT, related_name="patrols"
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    summary = models.TextField(_("summary"), max_length=2000, blank=True)
    # The phone's key for the start, so a start queued offline and sent twice makes one patrol.
    client_key = models.CharField(max_length=80, unique=True)

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        indexes = [models.Index(fields=["grid", "-started_at"], name="appeals_patrol_grid_time")]
        constraints = [
            # One open patrol per worker at a time.
            models.UniqueConstraint(
                fields=["worker"], condition=Q(ended_at__isnull=True), name="appeals_patrol_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.grid} {self.started_at:%Y-%m-%d %H:%M}"


class PatrolNote(models.Model):
    """A place on the walk: what was seen and done there; or a problem found (主动发现), filed as a petition."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="notes")
    noted_at = models.DateTimeField(_("noted at"))
    place = models.CharField(_("place"), max_length=200)
    seen = models.TextField(_("what was seen"), max_length=2000, blank=True)
    done = models.TextField(_("what was done"), max_length=2000, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    petition = models.ForeignKey(
        Petition, verbose_name=_("problem reported"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_key = models.CharField(max_length=80, unique=True)

    class Meta:
        verbose_name = _("patrol note")
        verbose_name_plural = _("patrol notes")
        ordering = ["noted_at", "pk"]


class HotlineReplyResult(models.TextChoices):
    RESOLVED = "resolved", _("Resolved and replied")
    MERGED = "merged", _("Resolved with the petition it was merged into")


class HotlineReply(models.Model):
    """The reply owed to the 12345 hotline (回单) for an imported work order, one per resolution.

    Written in the same transaction as the petition's `resolved` event (appeals.services.hotline_reply),
    so no resolution is missed; a snapshot that never changes. A petition reopened and resolved again
    owes a second reply (round 2). Read in (txid, id) order through a cursor (docs/hotline.md).
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="hotline_replies")
    round = models.PositiveIntegerField(_("round"), default=1)
    order_no = models.CharField(_("order number"), max_length=64)
    tracking_no = models.CharField(_("tracking number"), max_length=20)
    result = models.CharField(_("result"), max_length=16, choices=HotlineReplyResult.choices)
    reply = models.TextField(_("reply"))
    unit_name = models.CharField(_("handling unit"), max_length=100)
    unit_code = models.CharField(max_length=32, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"))
    # The petition's area path at resolution: whose list the reply appears in.
    area_path = models.CharField(max_length=255, blank=True)
    # The writing transaction's id (PostgreSQL xid8, 0 elsewhere): the cursor reads rows in
    # (txid, id) order and only rows of transactions older than any still running, so a row that
    # commits later can never sort before a cursor already handed out.
    txid = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("hotline reply")
        verbose_name_plural = _("hotline replies")
        constraints = [
            models.UniqueConstraint(fields=["petition", "round"], name="appeals_hotline_reply_once_per_round"),
        ]
        indexes = [
            models.Index(fields=["txid", "id"], name="appeals_hotline_reply_cursor"),
            models.Index(fields=["area_path", "resolved_at"], name="appeals_hotline_reply_area"),
        ]


class PetitionNote(models.Model):
    """An internal note (内部备注): staff only, never on the resident's pages, the tracking API or
    Open311. Append-only; writing one also appends a `note_added` event (appeals.services.notes)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="internal_notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("note"), max_length=2000)
    created_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        indexes = [
            # The petition page lists a petition's notes, newest first.
            models.Index(fields=["petition", "-created_at"], name="appeals_note_petition_time"),
        ]


class ReplyTemplate(models.Model):
    """A reply text staff pick on the reply forms (答复模板): for one sub-class, or any (no category).

    Owned by a district (`district`, null = every district); the district centre manages them."""

    district = models.ForeignKey(
        Area, verbose_name=_("district"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reply_templates",
        help_text=_("Leave empty for a template that fits every category."),
    )
    title = models.CharField(_("title"), max_length=60)
    text = models.TextField(_("text"), max_length=2000)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["category_id", "title", "pk"]
        indexes = [
            # The reply forms: a category's active templates and the ones for any category.
            models.Index(fields=["category"], name="appeals_reply_tpl_category", condition=Q(is_active=True)),
        ]

    def __str__(self) -> str:
        return self.title
