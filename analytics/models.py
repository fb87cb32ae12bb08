"""Built in its own issue; the app exists so the layout and dependencies are fixed."""

# --- Recommendation rules (analytics.rules applies them; the admin edits them) -------------------
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleKind(models.TextChoices):
    """What a rule looks at; analytics.rules.KINDS holds each kind's test and its placeholders."""

    CATEGORY_RISING_TWICE = "category_rising_twice", _("A category rising two months running")
    GRID_MANY_REPEATS = "grid_many_repeats", _("A grid with many repeat complaints")
    UNIT_LOW_SATISFACTION = "unit_low_satisfaction", _("A unit under the satisfaction threshold")
    DEPARTMENT_MANY_RETURNS = "department_many_returns", _("A department with many returns")
    SEASONAL_RISER = "seasonal_riser", _("A category above the same month last year")


class RuleSeverity(models.TextChoices):
    INFO = "info", _("Note")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class RecommendationRule(models.Model):
    """A recommendation the monthly report raises when its figures cross the rule's thresholds.

    `threshold` and `min_count` mean what the kind says (analytics.rules.KINDS, docs/analytics.md);
    `text_template` is Chinese with the kind's {placeholders}.
    """

    kind = models.CharField(_("kind"), max_length=32, choices=RuleKind.choices)
    name = models.CharField(_("name"), max_length=100)
    severity = models.CharField(
        _("severity"), max_length=16, choices=RuleSeverity.choices, default=RuleSeverity.WARNING
    )
    threshold = models.DecimalField(_("threshold"), max_digits=8, decimal_places=4)
    min_count = models.PositiveIntegerField(_("minimum count"), default=5)
    max_items = models.PositiveSmallIntegerField(_("at most this many per report"), default=3)
    text_template = models.TextField(_("text template"))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("recommendation rule")
        verbose_name_plural = _("recommendation rules")
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(threshold__gte=0), name="analytics_rule_threshold_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from analytics.rules import template_problem

        problem = template_problem(self.kind, self.text_template)
        if problem:
            raise ValidationError({"text_template": problem})
