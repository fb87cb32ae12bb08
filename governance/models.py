"""Staff, roles and departments.

A user holds one or more posts; each post is a role plus either an area (the subtree it sees) or a
department (the cases dispatched to it). Administrators hold a post with neither and see all.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Area, AreaLevel


class DepartmentKind(models.TextChoices):
    DISTRICT = "district", _("District department")
    UTILITY = "utility", _("Utility company")
    PROPERTY = "property", _("Property management company")


class Department(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=20, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DepartmentKind.choices, default=DepartmentKind.DISTRICT)
    # The district (or street) the unit serves; it sees cases dispatched to it, not area data.
    district = models.ForeignKey(
        Area, verbose_name=_("district"), null=True, blank=True, on_delete=models.PROTECT, related_name="departments"
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker")
    MICROGRID_HEAD = "microgrid_head", _("Micro-grid head")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    COMMUNITY_SECRETARY = "community_secretary", _("Community secretary")
    STREET_COMMAND = "street_command", _("Street command centre")
    DISTRICT_CENTRE = "district_centre", _("District centre")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    DEPARTMENT_LEADER = "department_leader", _("Department leader")
    ADMINISTRATOR = "administrator", _("Administrator")


# The area level each area-bound role is posted to; department roles are posted to a department.
ROLE_AREA_LEVEL: dict[str, int] = {
    Role.GRID_WORKER: AreaLevel.GRID,
    Role.MICROGRID_HEAD: AreaLevel.MICROGRID,
    Role.COMMUNITY_WORKER: AreaLevel.COMMUNITY,
    Role.COMMUNITY_SECRETARY: AreaLevel.COMMUNITY,
    Role.STREET_COMMAND: AreaLevel.STREET,
    Role.DISTRICT_CENTRE: AreaLevel.DISTRICT,
}
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_LEADER})
AREA_ROLES = frozenset(ROLE_AREA_LEVEL)


class StaffPost(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="posts"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT, related_name="posts"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="posts"
    )
    title = models.CharField(_("title"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff post")
        verbose_name_plural = _("staff posts")
        indexes = [
            # scope_for(user): the active posts of one user, on every request.
            models.Index(fields=["user", "is_active"], name="governance_post_user_active"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role__in=sorted(str(r) for r in AREA_ROLES), area__isnull=False, department__isnull=True)
                    | models.Q(
                        role__in=sorted(str(r) for r in DEPARTMENT_ROLES), area__isnull=True, department__isnull=False
                    )
                    | models.Q(role=Role.ADMINISTRATOR, area__isnull=True, department__isnull=True)
                ),
                name="governance_staffpost_role_matches_target",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "area"],
                condition=models.Q(area__isnull=False),
                name="governance_post_unique_area",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=models.Q(department__isnull=False),
                name="governance_post_unique_department",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(role="administrator"), name="governance_post_unique_admin"
            ),
        ]

    def __str__(self) -> str:
        target = self.area or self.department
        return f"{self.get_role_display()} · {target}" if target else self.get_role_display()


class Heartbeat(models.Model):
    """Last time each background process proved it was alive (written by a beat-scheduled task)."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday")
    # 调休上班: a weekend day worked in exchange for a longer holiday.
    WORKDAY = "workday", _("Swapped working day")


class CalendarDay(models.Model):
    """An administrator's correction to the public-holiday calendar; it wins over the package data.

    Also the only source for years the `chinese-calendar` package does not know yet (see
    governance/workcalendar.py and docs/working-time.md). Rows are history: a correction of a date
    is a new row with a later `effective_from`, and a deadline started at a moment counts with the
    rows in force then.
    """

    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=CalendarDayKind.choices)
    name = models.CharField(_("name"), max_length=50, blank=True, help_text=_("For example 春节 or 国庆节."))
    effective_from = models.DateTimeField(_("effective from"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["-date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["holiday", "workday"]), name="governance_calendarday_kind_valid"
            ),
            # Also the index workcalendar loads one year's rows by (a date range).
            models.UniqueConstraint(fields=["date", "effective_from"], name="governance_calendarday_version"),
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}".strip()


class ApiClient(models.Model):
    """An outside system that submits through an API (today: Open311 clients such as city apps).

    Only a SHA-256 hash of the key is stored; the plain key is shown once, when it is made.
    """

    name = models.CharField(_("name"), max_length=50, unique=True)
    # The first characters of the key, so an administrator can tell keys apart without the secret.
    key_prefix = models.CharField(_("key prefix"), max_length=8, editable=False)
    # unique=True also indexes it: every authenticated call looks the client up by this hash.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def set_new_key(self) -> str:
        """Give the client a fresh key (not saved yet) and return it; the old key stops working."""
        key = secrets.token_urlsafe(32)
        self.key_prefix = key[:8]
        self.key_hash = self.hash_key(key)
        return key

    @classmethod
    def create_with_key(cls, *, name: str) -> tuple[ApiClient, str]:
        """A new active client and its plain key, which is not stored anywhere."""
        client = cls(name=name.strip())
        key = client.set_new_key()
        client.full_clean()
        client.save()
        return client, key


class AccessReason(models.TextChoices):
    """Why personal data was shown unmasked or exported (docs/personal-data.md)."""

    HANDLER_VIEW = "handler_view", _("Handling the case")
    ADMIN_VIEW = "admin_view", _("Admin view")
    EXPORT = "export", _("Export")
    RECORD_VIEW = "record_view", _("Resident record")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The access log is append-only: rows are never updated.")

    def delete(self):
        raise TypeError("The access log is append-only: rows are never deleted.")


class AccessLog(models.Model):
    """One unmasked look at (or export of) personal data: who, when, which record and field, why, from where.

    Append-only: the ORM refuses updates and deletes, and on PostgreSQL a trigger refuses them too.
    Write rows through `governance.accesslog.access_log_write`.
    """

    at = models.DateTimeField(_("at"), default=timezone.now, editable=False)
    # No constraint and no cascade: deleting a user (seed_demo --reset) leaves their rows as written,
    # with the id and the username (`actor`) they had.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        editable=False,
    )
    # The username at the time, and the actor of system exports (a command run without --user).
    actor = models.CharField(_("actor"), max_length=150, blank=True, editable=False)
    model = models.CharField(_("record type"), max_length=64, editable=False)
    object_id = models.CharField(_("record id"), max_length=64, editable=False)
    record = models.CharField(_("record"), max_length=64, editable=False, help_text=_("e.g. the tracking number"))
    fields = models.CharField(_("fields"), max_length=200, editable=False, help_text=_("comma-separated"))
    reason = models.CharField(_("reason"), max_length=16, choices=AccessReason.choices, editable=False)
    ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True, editable=False)
    path = models.CharField(_("path"), max_length=300, blank=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [
            # The admin's default list (newest first) and its date filter.
            models.Index(fields=["at"], name="accesslog_at"),
            # "Who looked at petition X": search by record.
            models.Index(fields=["record", "at"], name="accesslog_record_at"),
            # "What did user U look at": the user filter.
            models.Index(fields=["user", "at"], name="accesslog_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.record} {self.fields}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The access log is append-only: rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The access log is append-only: rows are never deleted.")


from governance.sessions import UserSession  # noqa: E402,F401  (the session table, see governance/sessions.py)
