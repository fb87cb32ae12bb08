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

from appeals.hotline import FORMATS, ImportReport, hotline_import
from appeals.models import Petition
from governance.accesslog import access_log_write, access_record
from governance.errors import DomainError
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

    def handle(self, *args, file: str, format: str | None, user: str | None, report: str | None, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user is called {user!r}.")
        if not Path(file).is_file():
            raise CommandError(f"No such file: {file}")
        try:
            result = hotline_import(file=file, fmt=format, actor=actor)
        except DomainError as error:
            raise CommandError(error.message) from None
        for row in result.errors:
            self.stderr.write(f"row {row.row} ({row.order_no or '-'}): {'; '.join(row.masked_messages)}")
        if report:
            self._write_report(result, Path(report))
            self._log_export(result, actor)
        totals = result.totals()
        self.stdout.write(
            f"{totals['rows']} rows: {totals['created']} created, {totals['skipped']} skipped (already imported), "
            f"{totals['failed']} failed."
        )
        if options["strict"] and result.failed:
            raise CommandError(f"{result.failed} row(s) failed.")

    def _write_report(self, result: ImportReport, path: Path) -> None:
        # utf-8-sig so Excel opens the Chinese messages correctly.
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(REPORT_HEADER)
            for row in result.rows:
                writer.writerow([row.row, row.order_no, row.outcome, row.tracking_no, "; ".join(row.masked_messages)])
        self.stdout.write(f"Report written to {path}.")

    def _log_export(self, result: ImportReport, actor) -> None:
        """The report file leaves the system: every petition it names is an export in the access log."""
        numbers = [row.tracking_no for row in result.rows if row.tracking_no]
        petitions = Petition.objects.filter(tracking_no__in=numbers).only("pk", "tracking_no")
        records = [access_record(p, REPORT_FIELDS, record=p.tracking_no) for p in petitions]
        access_log_write(
            user=actor, reason=AccessReason.EXPORT, records=records, actor="" if actor else "import_hotline"
        )
