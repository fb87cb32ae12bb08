"""政策找人: a finder query saved as a named policy, and who was contacted about it.

A policy keeps the finder's conditions as JSON (`residents.finder.FinderQuery.to_conditions`) and
the area it was made for; its list is always the residents matching those conditions inside both
that area and the reader's own subtree. Contacts are append-only rows (who, when, how, outcome):
the history of a resident is never rewritten, and "who is left" is everyone matching the policy
without a contact row for it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Area


class Policy(models.Model):
    name = models.CharField(_("name"), max_length=100)
    text = models.TextField(_("policy text"), max_length=5000, blank=True)
    # FinderQuery.to_conditions(): the finder's form values, stable keys, JSON-native values.
    conditions = models.JSONField(_("conditions"), default=dict)
    # The area the policy was made for (the maker's post or an area inside it); its path scopes
    # who reads the policy: staff inside it work their share, staff above it oversee it.
    area = models.ForeignKey(Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        ordering = ["-created_at", "-id"]
        indexes = [
            # policies_visible_to(): policies whose area path lies inside the reader's subtree
            # (LIKE 'prefix%' needs the pattern operator class under a non-C collation).
            models.Index(fields=["area_path"], name="residents_policy_path", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name


class ContactOutcome(models.TextChoices):
    PHONE = "phone", _("Phoned")
    VISIT = "visit", _("Visited")
    INELIGIBLE = "ineligible", _("Not eligible")
    ENJOYED = "enjoyed", _("Already receives it")


class PolicyContactQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Policy contacts are append-only: rows are never updated.")

    def delete(self):
        raise TypeError("Policy contacts are append-only: rows are never deleted.")


class PolicyContact(models.Model):
    """One contact with a resident about a policy: the audit row itself (append-only)."""

    policy = models.ForeignKey(Policy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="contacts")
    resident = models.ForeignKey(
        "residents.Resident", verbose_name=_("resident"), on_delete=models.PROTECT, related_name="policy_contacts"
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=ContactOutcome.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("contacted by"), on_delete=models.PROTECT, related_name="+"
    )
    contacted_at = models.DateTimeField(_("contacted at"), default=timezone.now, editable=False)

    objects = PolicyContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("policy contact")
        verbose_name_plural = _("policy contacts")
        ordering = ["-contacted_at", "-id"]
        indexes = [
            # "Who is left" of a policy: NOT EXISTS (contact of this policy and resident).
            models.Index(fields=["policy", "resident"], name="residents_contact_policy"),
            # The resident page's history and the finder's "not contacted since": newest first.
            models.Index(fields=["resident", "-contacted_at"], name="residents_contact_resident"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=["phone", "visit", "ineligible", "enjoyed"]),
                name="residents_policycontact_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} · {self.resident_id} · {self.get_outcome_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Policy contacts are append-only: rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Policy contacts are append-only: rows are never deleted.")
