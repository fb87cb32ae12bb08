"""Monthly reports: one row per version of an area's month, frozen once published (docs/analytics.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.models import Area


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ReportState(models.TextChoices):
    """Where the generation of the version's figures stands (the progress bar reads it)."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Generating")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class Report(models.Model):
    """A version of the monthly report of one area.

    `figures` is the whole document of REPORT_CONTRACT.md. Generating again writes a new version
    (with `changes` against the one before); a published version never changes: the services
    refuse to touch its figures, and its PDF and XLSX, rendered on first download, are kept.
    """

    area = models.ForeignKey(Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="reports")
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    version = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    state = models.CharField(_("generation"), max_length=16, choices=ReportState.choices, default=ReportState.QUEUED)
    # Generation progress for the progress bar: 0-100 and the step running now.
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    phase = models.CharField(_("step"), max_length=32, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    # What changed against the previous version: {"previous_version", "count", "items": [{ref, before, after}]}.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Rendered from `figures` on first download and then kept (analytics.render).
    pdf = models.FileField(_("PDF"), upload_to="reports/%Y/%m/", blank=True)
    xlsx = models.FileField(_("Excel workbook"), upload_to="reports/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-year", "-month", "area__path", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["area", "year", "month", "version"], name="analytics_report_version"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="analytics_report_month_valid"),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(state="ready", published_at__isnull=False),
                name="analytics_report_published_is_ready",
            ),
        ]
        indexes = [
            # The report list of an area and the API's ?area=&month=: versions of one month, newest first.
            models.Index(fields=["area", "year", "month", "-version"], name="analytics_report_area_month"),
            # The sweeper: requested versions the broker never delivered.
            models.Index(fields=["requested_at"], name="analytics_report_queued", condition=Q(state="queued")),
        ]

    def __str__(self) -> str:
        return f"{self.area.name} {self.year}-{self.month:02d} v{self.version}"

    @property
    def month_label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def is_published(self) -> bool:
        return self.status == ReportStatus.PUBLISHED


class ReportEventType(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    GENERATED = "generated", _("Generated")
    FAILED = "failed", _("Generation failed")
    PUBLISHED = "published", _("Published")
    RENDERED = "rendered", _("File rendered")


class ReportEvent(models.Model):
    """Append-only audit trail of a report: who asked, generated, published or rendered what, when."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=16, choices=ReportEventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=50, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("report event")
        verbose_name_plural = _("report events")
        ordering = ["created_at", "id"]
        indexes = [
            # A report's history.
            models.Index(fields=["report", "created_at"], name="analytics_report_event_time"),
        ]


# --- Recommendation rules (analytics.rules applies them; the admin edits them) -------------------


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
