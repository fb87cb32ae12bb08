"""`manage.py report_monthly --area CODE --month YYYY-MM [--format json|pdf|xlsx] [--publish] [--output FILE]`.

Generates a new version of the area's monthly report (published with --publish) and writes it
as JSON (the figures), PDF or XLSX to --output or standard output.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.serializers import MONTH_PATTERN
from analytics.services.reports import report_generate, report_store_file
from grids.models import Area


class Command(BaseCommand):
    help = "Generate (and optionally publish) an area's monthly report; print it as JSON, PDF or XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", required=True, help="The area's code (district, street, community, grid).")
        parser.add_argument("--month", required=True, help="YYYY-MM, Beijing time.")
        parser.add_argument("--format", default="json", choices=["json", "pdf", "xlsx"])
        parser.add_argument("--publish", action="store_true", help="Publish the new version (frozen from then on).")
        parser.add_argument("--output", help="Write to this file instead of standard output.")

    def handle(self, *args: Any, area: str, month: str, format: str, publish: bool, output: str | None, **options):
        match = MONTH_PATTERN.match(month)
        if not match or not 1 <= int(match[2]) <= 12:
            raise CommandError(f"--month {month!r}: 请按 YYYY-MM 填写月份，例如 2026-11。")
        found = Area.objects.filter(code=area).first()
        if found is None:
            raise CommandError(f"--area {area!r}: 没有这个区域编码。")
        report = report_generate(area=found, year=int(match[1]), month=int(match[2]), publish=publish)
        if format == "json":
            content = json.dumps(report.figures, ensure_ascii=False, indent=2).encode()
        else:
            content = self._render(report, format)
        if output:
            with open(output, "wb") as handle:
                handle.write(content)
        else:
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
        state = "published" if report.is_published else "draft"
        self.stderr.write(f"{found.name} {report.month_label} v{report.version} ({state}), id {report.pk}")

    def _render(self, report, kind: str) -> bytes:
        if kind == "pdf":
            from analytics.render.pdf import report_pdf

            content = report_pdf(report)
        else:
            from analytics.render.xlsx import report_xlsx

            content = report_xlsx(report)
        report_store_file(report_id=report.pk, kind=kind, content=content)
        return content
