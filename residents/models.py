"""House records (人、房): the minimum the petition flow needs to route by address or doorplate.

Residents, venues and their tags come in their own issue and extend this app.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.models import Area


def normalize_address(text: str) -> str:
    """The matching key of an address: no whitespace or punctuation, full-width digits folded."""
    folded = text.translate(str.maketrans("０１２３４５６７８９－（）", "0123456789-()"))
    return "".join(ch for ch in folded if ch.isalnum())


class House(models.Model):
    address = models.CharField(_("address"), max_length=200)
    # normalize_address(address); petitions whose address normalises the same route here.
    address_key = models.CharField(max_length=200, unique=True, editable=False)
    # The electronic doorplate's QR code carries this.
    doorplate_code = models.CharField(_("doorplate code"), max_length=40, unique=True, null=True, blank=True)
    microgrid = models.ForeignKey(Area, verbose_name=_("micro-grid"), on_delete=models.PROTECT, related_name="houses")
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("house")
        verbose_name_plural = _("houses")

    def __str__(self) -> str:
        return self.address
