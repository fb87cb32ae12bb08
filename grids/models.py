"""The area hierarchy: district → street → community → grid → micro-grid.

One table holds all five levels. `path` is a materialized path built from the codes of the area
and its ancestors ("370203/370203001/…/"), so "everything inside this area" is the single
indexed condition `path LIKE '<area.path>%'`. Records that belong to an area copy its path.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

PATH_SEPARATOR = "/"


class AreaLevel(models.IntegerChoices):
    DISTRICT = 1, _("District")
    STREET = 2, _("Street")
    COMMUNITY = 3, _("Community")
    GRID = 4, _("Grid")
    MICROGRID = 5, _("Micro-grid")


class Area(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # unique=True gives PostgreSQL both a plain and a varchar_pattern_ops index; the latter
    # serves every subtree query (`path LIKE 'prefix%'`).
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    # GeoJSON geometry (Polygon or MultiPolygon) in WGS84 longitude/latitude.
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    households = models.PositiveIntegerField(_("households"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        indexes = [
            # Children of one level inside a subtree: dashboards list "the grids of community X".
            models.Index(fields=["level", "path"], name="grids_area_level_path"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(level=AreaLevel.DISTRICT) & models.Q(parent__isnull=True))
                | (models.Q(level__gt=AreaLevel.DISTRICT) & models.Q(parent__isnull=False)),
                name="grids_area_only_districts_are_roots",
            ),
            models.CheckConstraint(
                condition=models.Q(households__isnull=True) | models.Q(level=AreaLevel.MICROGRID),
                name="grids_area_households_only_on_microgrids",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @staticmethod
    def build_path(parent_path: str | None, code: str) -> str:
        return f"{parent_path or ''}{code}{PATH_SEPARATOR}"

    @property
    def ancestor_codes(self) -> list[str]:
        return [part for part in self.path.split(PATH_SEPARATOR) if part]


class BoundaryRevision(models.Model):
    """A single row counting boundary changes; point-lookup indexes rebuild when it moves."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    revision = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("boundary revision")
        verbose_name_plural = _("boundary revisions")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="grids_boundaryrevision_single_row")]


class BoundaryChange(models.Model):
    """Append-only audit of boundary changes: who, when, from where, which areas changed.

    Written by `grids.services.boundary_revision_bump`, the one function every boundary change
    (an import, the demo seed, a new area) goes through.
    """

    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.CharField(_("by"), max_length=100)
    source = models.CharField(_("source"), max_length=255, blank=True)
    revision = models.PositiveBigIntegerField(_("boundary revision"))
    created_codes = models.JSONField(_("areas created"), default=list)
    updated_codes = models.JSONField(_("areas updated"), default=list)
    deleted_codes = models.JSONField(_("areas deleted"), default=list)

    class Meta:
        verbose_name = _("boundary change")
        verbose_name_plural = _("boundary changes")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor}"
