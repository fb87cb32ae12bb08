"""The Party's chain down to the doorstep: 区委—街道党工委—社区党委—网格党支部—楼院党小组—党员中心户.

The first four links are the area tree (district, street, community, grid); these models are the
last two. A building party group (楼院党小组) belongs to a grid's branch and covers buildings; a
party-member household (党员中心户) is a party member's house that looks after nearby households.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from residents.models.base import Located
from residents.models.houses import Building, House
from residents.models.people import Resident


class PartyGroup(Located):
    """楼院党小组: the micro-grid it sits in, its buildings and its leader."""

    name = models.CharField(_("name"), max_length=100)
    buildings = models.ManyToManyField(Building, verbose_name=_("buildings"), blank=True, related_name="party_groups")
    leader = models.ForeignKey(
        Resident, verbose_name=_("leader"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(Located.Meta):
        verbose_name = _("building party group")
        verbose_name_plural = _("building party groups")

    def __str__(self) -> str:
        return self.name


class PartyHousehold(Located):
    """党员中心户: a party member's house and the households it looks after."""

    house = models.OneToOneField(
        House, verbose_name=_("house"), on_delete=models.PROTECT, related_name="party_household"
    )
    member = models.ForeignKey(
        Resident, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="party_households"
    )
    group = models.ForeignKey(
        PartyGroup,
        verbose_name=_("building party group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
    )
    linked_houses = models.ManyToManyField(
        House, verbose_name=_("households looked after"), blank=True, related_name="party_contacts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(Located.Meta):
        verbose_name = _("party-member household")
        verbose_name_plural = _("party-member households")

    def __str__(self) -> str:
        return str(self.house)
