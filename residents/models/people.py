"""Residents (人) and the change history of every record.

A resident is never deleted: moving away or dying is a status with its date. The ID number and
phone are encrypted at rest (`governance.crypto.EncryptedTextField`); their blind indexes find a
resident by the exact number. Writes go through `residents.services`, which append a
`RecordChange` for every change.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.crypto import EncryptedTextField
from residents.models.base import Located
from residents.models.houses import House

# Below this age a resident's record needs a community secretary or higher (governance.privacy).
ADULT_AGE = 18


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "", _("Unknown")


class Relation(models.TextChoices):
    HOUSEHOLDER = "householder", _("Householder")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    SIBLING = "sibling", _("Sibling")
    TENANT = "tenant", _("Tenant")
    OTHER = "other", _("Other")


class Registration(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    FLOATING = "floating", _("Floating (流动)")


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", _("Living here")
    MOVED_AWAY = "moved_away", _("Moved away")
    DECEASED = "deceased", _("Deceased")


def age_on(birth_date: date | None, today: date) -> int | None:
    if birth_date is None:
        return None
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


class Resident(Located):
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # Fernet tokens: the columns never hold the number (governance.crypto).
    id_number = EncryptedTextField(_("ID number"), blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)

    house = models.ForeignKey(House, verbose_name=_("house"), on_delete=models.PROTECT, related_name="residents")
    relation = models.CharField(
        _("relation to the householder"), max_length=16, choices=Relation.choices, default=Relation.OTHER
    )
    registration = models.CharField(
        _("registration"), max_length=16, choices=Registration.choices, default=Registration.REGISTERED
    )
    moved_in_on = models.DateField(_("moved in"), null=True, blank=True)
    moved_out_on = models.DateField(_("moved out"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ResidentStatus.choices, default=ResidentStatus.ACTIVE)
    # The only active resident of the house (kept by residents.services, never typed in).
    living_alone = models.BooleanField(_("living alone"), default=False, editable=False)
    notes = models.TextField(_("notes"), blank=True, max_length=1000)
    # When the retention purge blanked the name, ID number and phone (moved away long enough).
    purged_at = models.DateTimeField(_("personal data purged"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # encrypted field → (its blind-index column, the index's kind): `personal_data_rekey --reindex`.
    BLIND_INDEXES = {"id_number": ("id_number_hash", "id"), "phone": ("phone_hash", "phone")}

    class Meta(Located.Meta):
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        indexes = [
            *Located.Meta.indexes,
            models.Index(fields=["id_number_hash"], name="res_resident_id_hash", condition=~Q(id_number_hash="")),
            models.Index(fields=["phone_hash"], name="res_resident_phone_hash", condition=~Q(phone_hash="")),
            models.Index(fields=["house", "status"], name="res_resident_house"),
            # The retention purge: moved-away rows not purged yet, oldest move first.
            models.Index(
                fields=["moved_out_on"],
                name="res_resident_purge_due",
                condition=Q(status="moved_away", purged_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ResidentStatus.values), name="residents_resident_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(registration__in=Registration.values), name="residents_resident_registration_valid"
            ),
            models.CheckConstraint(condition=Q(gender__in=Gender.values), name="residents_resident_gender_valid"),
            # One living record per ID number; moved-away and deceased records keep theirs as history.
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=Q(status="active") & ~Q(id_number_hash=""),
                name="residents_resident_one_active_per_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def age(self, today: date | None = None) -> int | None:
        return age_on(self.birth_date, today or timezone.localdate())

    @property
    def is_minor(self) -> bool:
        age = self.age()
        return age is not None and age < ADULT_AGE


class RecordChange(models.Model):
    """The append-only change history of buildings, houses and residents (and their tags).

    `changes` maps a field to [old, new]; personal data (ID number, phone) is never written here,
    only that it changed ("*").
    """

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        MOVED_AWAY = "moved_away", _("Moved away")
        DECEASED = "deceased", _("Deceased")
        TAG_ADDED = "tag_added", _("Tag added")
        TAG_REMOVED = "tag_removed", _("Tag removed")
        PURGED = "purged", _("Personal data purged")
        IMPORTED = "imported", _("Imported")

    record_type = models.CharField(_("record type"), max_length=32)
    record_id = models.BigIntegerField(_("record"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("record change")
        verbose_name_plural = _("record changes")
        indexes = [models.Index(fields=["record_type", "record_id", "-at"], name="res_change_record")]

    def __str__(self) -> str:
        return f"{self.record_type}#{self.record_id} {self.action}"
