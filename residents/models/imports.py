"""智能导人: uploads of residents, houses or buildings, their dry-run report and the remembered mappings.

An `ImportJob` is the log of one upload (who, which file, into which community, the counts) and
its progress row; `ImportRow` holds its report, one row per problem and per planned change, so the
report pages page and group it in SQL; `ImportMapping` remembers a community's column mapping.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids.models import Area


class ImportKind(models.TextChoices):
    RESIDENT = "resident", _("Residents")
    HOUSE = "house", _("Houses")
    BUILDING = "building", _("Buildings")


class ImportStatus(models.TextChoices):
    MAPPING = "mapping", _("Waiting for the column mapping")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    IMPORTING = "importing", _("Importing")
    DONE = "done", pgettext_lazy("import status", "Imported")
    FAILED = "failed", _("Not imported")


class ImportJob(models.Model):
    """One uploaded file. The upload stays in the row until it is imported (any worker can read it)."""

    kind = models.CharField(_("kind"), max_length=10, choices=ImportKind.choices)
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="resident_import_jobs"
    )
    # The community's path: the job is visible to whoever sees this subtree.
    area_path = models.CharField(max_length=255, editable=False)
    file_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(max_length=4)
    content = models.BinaryField(blank=True, default=b"")
    header = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.MAPPING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="resident_import_jobs",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # When the current check or import was queued / started / ended.
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    phase = models.CharField(max_length=16, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # Counts of the last check or import: rows, create, update, unchanged, problem_rows, problems
    # by code; an import's counts are what it wrote.
    summary = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        verbose_name = _("resident import")
        verbose_name_plural = _("resident imports")
        indexes = [
            # The upload page's list of recent imports in the user's subtree, newest first.
            models.Index(fields=["area_path", "-created_at"], name="residents_importjob_area"),
            # The sweeper: jobs queued or running that no worker finished.
            models.Index(
                fields=["queued_at"],
                name="residents_importjob_pending",
                condition=Q(status__in=["checking", "importing"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_kind_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.CHECKING, ImportStatus.IMPORTING)


class RowAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    PROBLEM = "problem", _("Problem")


class ImportRow(models.Model):
    """One line of a job's report: a problem of a row (`code`), or the change a row makes."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="report_rows")
    row = models.PositiveIntegerField()
    action = models.CharField(max_length=8, choices=RowAction.choices)
    # The problem's code (residents.imports.problems); empty for a change.
    code = models.CharField(max_length=32, blank=True)
    # What identifies the row to a person: a masked name and ID number, an address, a code.
    label = models.CharField(max_length=200, blank=True)
    # A problem: {"column", "params"}; a change: {"changes": {field: [old, new]}} (masked).
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("import report row")
        verbose_name_plural = _("import report rows")
        indexes = [
            # The report pages: one job's problems of one code, or its creates/updates, by row.
            models.Index(fields=["job", "action", "code", "row"], name="residents_importrow_report"),
        ]


class ImportMapping(models.Model):
    """The column mapping a community last used for a kind; the next upload starts from it."""

    community = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="resident_import_mappings")
    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    mapping = models.JSONField(default=dict)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("import column mapping")
        verbose_name_plural = _("import column mappings")
        constraints = [
            models.UniqueConstraint(fields=["community", "kind"], name="residents_importmapping_one_per_kind"),
        ]
