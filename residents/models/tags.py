"""Tags (标签) kept as data: district-wide ones and those a community adds for itself.

Derived tags (elderly 60+/80+, living alone) are kept by `residents.services.tags` from the birth
date and the house; manual ones are set by staff (veteran, unemployed, disabled, 低保 …).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.models import Area
from residents.models.people import Resident


class TagKind(models.TextChoices):
    DERIVED = "derived", _("Derived")
    MANUAL = "manual", _("Manual")


class Tag(models.Model):
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=50)
    # Null: a district-wide tag; otherwise the community that added it.
    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resident_tags",
        limit_choices_to={"level": 3},
    )
    kind = models.CharField(_("kind"), max_length=16, choices=TagKind.choices, default=TagKind.MANUAL)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Special groups (特殊人群) whose records staff look at with extra care.
    sensitive = models.BooleanField(_("sensitive"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=Q(community__isnull=True), name="residents_tag_code"),
            models.UniqueConstraint(
                fields=["community", "code"], condition=Q(community__isnull=False), name="residents_tag_community_code"
            ),
            models.CheckConstraint(condition=Q(kind__in=TagKind.values), name="residents_tag_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class ResidentTag(models.Model):
    resident = models.ForeignKey(Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="tags")
    tag = models.ForeignKey(Tag, verbose_name=_("tag"), on_delete=models.PROTECT, related_name="residents")
    since = models.DateField(_("since"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("resident tag")
        verbose_name_plural = _("resident tags")
        constraints = [models.UniqueConstraint(fields=["resident", "tag"], name="residents_residenttag_unique")]
        indexes = [models.Index(fields=["tag", "resident"], name="res_residenttag_tag")]

    def __str__(self) -> str:
        return f"{self.resident_id}:{self.tag_id}"
