"""Import a 12345 hotline export: `manage.py import_hotline orders.xlsx --user district --report out.csv`.

Row errors are reported and the command still exits 0 (the good rows are in); `--strict` makes any
failed row exit 1. A file-level error (unreadable, required columns missing) exits 1 having stored
nothing.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from appeals.hotline import FORMATS, ImportReport, hotline_import
from appeals.models import Petition
from governance.accesslog import access_log_write, access_record
from governance.errors import DomainError
from governance.exports import safe_row
from governance.models import AccessReason

REPORT_HEADER = ["row", "order_no", "outcome", "tracking_no", "messages"]
# What the report carries of each petition, as the access log records it.
REPORT_FIELDS = ("tracking_no", "external_ref")


class Command(BaseCommand):
    help = "Import 12345 hotline work orders from a CSV or XLSX export; already imported orders are skipped."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The export (CSV in UTF-8 or GBK, or XLSX; first sheet, header row).")
        parser.add_argument("--format", choices=FORMATS, help="Default: from the file name or content.")
        parser.add_argument("--user", help="Username recorded as the actor of the import.")
        parser.add_argument("--report", help="Write the per-row report to this CSV file.")
        parser.add_argument("--strict", action="store_true", help="Exit 1 if any row failed.")
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="Store the file in one transaction: if any row fails, store nothing and exit 1 (like the API).",
        )

    def handle(self, *args, file: str, format: str | None, user: str | None, report: str | None, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(_("No user is called %(user)s.") % {"user": user})
        if not Path(file).is_file():
            raise CommandError(_("No such file: %(file)s") % {"file": file})
        try:
            result = hotline_import(file=file, fmt=format, actor=actor, all_or_nothing=options["all_or_nothing"])
        except DomainError as error:
            raise CommandError(error.message) from None
        for row in result.errors:
            self.stderr.write(
                _("Row %(row)s (%(order)s): %(messages)s")
                % {"row": row.row, "order": row.order_no or "-", "messages": "；".join(row.masked_messages)}
            )
        if report:
            self._write_report(result, Path(report))
            self._log_export(result, actor)
        totals = result.totals()
        self.stdout.write(
            _("%(rows)s rows: %(created)s created, %(skipped)s skipped (already imported), %(failed)s failed.") % totals
        )
        if not result.committed:
            raise CommandError(_("%(failed)s row(s) failed; nothing was stored.") % {"failed": result.failed})
        if options["strict"] and result.failed:
            raise CommandError(_("%(failed)s row(s) failed.") % {"failed": result.failed})

    def _write_report(self, result: ImportReport, path: Path) -> None:
        # utf-8-sig so Excel opens the Chinese messages correctly.
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(REPORT_HEADER)
            for row in result.rows:
                writer.writerow(
                    safe_row([row.row, row.order_no, row.outcome, row.tracking_no, "; ".join(row.masked_messages)])
                )
        self.stdout.write(_("Report written to %(path)s.") % {"path": path})

    def _log_export(self, result: ImportReport, actor) -> None:
        """The report file leaves the system: every petition it names is an export in the access log."""
        numbers = [row.tracking_no for row in result.rows if row.tracking_no]
        petitions = Petition.objects.filter(tracking_no__in=numbers).only("pk", "tracking_no")
        records = [access_record(p, REPORT_FIELDS, record=p.tracking_no) for p in petitions]
        access_log_write(
            user=actor, reason=AccessReason.EXPORT, records=records, actor="" if actor else "import_hotline"
        )
