"""Buildings (楼栋) and houses (房屋): where residents live and petitions are routed by address.

A house's address or electronic doorplate routes a petition to its micro-grid. Both carry the
level columns of `Located`, so every list of them is scoped by the one rule of governance.scoping.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.models import Area
from residents.models.base import Located


def normalize_address(text: str) -> str:
    """The matching key of an address: no whitespace or punctuation, full-width digits folded."""
    folded = text.translate(str.maketrans("０１２３４５６７８９－（）", "0123456789-()"))
    return "".join(ch for ch in folded if ch.isalnum())


class Building(Located):
    """A building (楼栋) with its units (单元) and floors."""

    code = models.CharField(_("building code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200)
    units = models.PositiveSmallIntegerField(_("units"), default=1)
    floors = models.PositiveSmallIntegerField(_("floors"), default=1)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(Located.Meta):
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            models.CheckConstraint(condition=models.Q(units__gte=1), name="residents_building_units_positive"),
            models.CheckConstraint(condition=models.Q(floors__gte=1), name="residents_building_floors_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class HouseUse(models.TextChoices):
    OWNER_OCCUPIED = "owner_occupied", _("Owner-occupied")
    RENTED = "rented", _("Rented")
    GROUP_RENTAL = "group_rental", _("Group rental (群租)")
    VACANT = "vacant", _("Vacant")
    SHOP = "shop", _("Shop")


class House(Located):
    address = models.CharField(_("address"), max_length=200)
    # normalize_address(address); petitions whose address normalises the same route here.
    address_key = models.CharField(max_length=200, unique=True, editable=False)
    # The electronic doorplate's QR code carries this.
    doorplate_code = models.CharField(_("doorplate code"), max_length=40, unique=True, null=True, blank=True)
    # The columns of the first House, kept as they were (a plain index on each).
    microgrid = models.ForeignKey(Area, verbose_name=_("micro-grid"), on_delete=models.PROTECT, related_name="houses")
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)

    building = models.ForeignKey(
        Building, verbose_name=_("building"), null=True, blank=True, on_delete=models.PROTECT, related_name="houses"
    )
    unit = models.PositiveSmallIntegerField(_("unit"), null=True, blank=True)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    room = models.CharField(_("room"), max_length=20, blank=True)
    use = models.CharField(_("use"), max_length=16, choices=HouseUse.choices, default=HouseUse.OWNER_OCCUPIED)
    notes = models.TextField(_("notes"), blank=True, max_length=1000)

    class Meta:
        verbose_name = _("house")
        verbose_name_plural = _("houses")
        indexes = [
            models.Index(fields=["street", "id"], name="res_house_street"),
            models.Index(fields=["community", "id"], name="res_house_community"),
            models.Index(fields=["grid", "id"], name="res_house_grid"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(use__in=HouseUse.values), name="residents_house_use_valid"),
        ]

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs) -> None:
        # Rows written without the service (older callers, fixtures) still get their level columns.
        if self.microgrid_id and (self.community_id is None or not self.area_path):
            self.locate(self.microgrid)
        super().save(*args, **kwargs)
