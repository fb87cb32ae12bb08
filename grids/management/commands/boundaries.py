"""`manage.py boundaries export|import FILE`: area boundaries as a GeoJSON FeatureCollection.

Only argument parsing and file handling live here; grids.geojson does the work and the checks.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from grids.geojson import BoundaryError, boundaries_export, boundaries_import, geojson_load
from grids.models import Area

STDIO = "-"


class Command(BaseCommand):
    help = "Export area boundaries to a GeoJSON file, or import (create/update) areas from one."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="Write a FeatureCollection of all areas or one subtree.")
        export.add_argument("file", help="Output .geojson file, or - for standard output.")
        export.add_argument("--root", metavar="CODE", help="Export only this area and everything inside it.")
        load = actions.add_parser("import", help="Create or update areas from a FeatureCollection; all or nothing.")
        load.add_argument("file", help="Input .geojson file, or - for standard input.")

    def handle(self, *args, **options) -> None:
        if options["action"] == "export":
            self._export(options["file"], options.get("root"))
        else:
            self._import(options["file"])

    def _export(self, file: str, root_code: str | None) -> None:
        root = None
        if root_code:
            root = Area.objects.filter(code=root_code).first()
            if root is None:
                raise CommandError(_("No area has the code %(code)s.") % {"code": root_code})
        data = boundaries_export(root=root)
        text = json.dumps(data, ensure_ascii=False, indent=1)
        if file == STDIO:
            self.stdout.write(text)
            return
        Path(file).write_text(text + "\n", encoding="utf-8")
        self.stdout.write(_("Exported %(count)s areas to %(file)s.") % {"count": len(data["features"]), "file": file})

    def _import(self, file: str) -> None:
        try:
            raw = sys.stdin.buffer.read() if file == STDIO else Path(file).read_bytes()
        except OSError as error:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": error}) from None
        try:
            result = boundaries_import(
                data=geojson_load(raw), actor=f"manage.py boundaries ({getpass.getuser()})", source=file
            )
        except BoundaryError as error:
            lines = [error.message, *(f"- {problem.message}" for problem in error.problems)]
            if error.truncated:
                lines.append(_("… and more; fix these first. Nothing was written."))
            else:
                lines.append(_("Nothing was written."))
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(
            _("Imported %(file)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {"file": file, "created": result.created, "updated": result.updated, "unchanged": result.unchanged}
        )
