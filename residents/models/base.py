"""The level columns every record of the area tree carries (the one rule of governance.scoping)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.models import Area


class Located(models.Model):
    """A record located in a micro-grid, with its area at every level and the micro-grid's path.

    Services set the columns from the micro-grid (`governance.scoping.level_values`); scoped
    queries use `governance.scoping.level_scoped`, one equality on an index led by the column of
    the user's level.
    """

    microgrid = models.ForeignKey(
        Area, verbose_name=_("micro-grid"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    grid = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    street = models.ForeignKey(Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    area_path = models.CharField(max_length=255, editable=False)

    class Meta:
        abstract = True
        indexes = [
            models.Index(fields=["street", "id"], name="res_%(class)s_street"),
            models.Index(fields=["community", "id"], name="res_%(class)s_community"),
            models.Index(fields=["grid", "id"], name="res_%(class)s_grid"),
            models.Index(fields=["microgrid", "id"], name="res_%(class)s_mgrid"),
            models.Index(fields=["area_path"], opclasses=["varchar_pattern_ops"], name="res_%(class)s_path"),
        ]

    def locate(self, area: Area) -> None:
        """Set the level columns from `area` (a micro-grid): one query for its ancestors."""
        from governance.scoping import level_values

        for name, value in level_values(area).items():
            setattr(self, name, value)
