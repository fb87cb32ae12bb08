"""POST /api/v1/hotline/import/: upload a 12345 hotline export, get the per-row report."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.hotline import FORMATS, hotline_import
from governance.errors import DomainError, Forbidden
from governance.models import Role
from governance.scoping import scope_for

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
IMPORT_ROLES = (Role.DISTRICT_CENTRE, Role.STREET_COMMAND)


class HotlineImportApi(APIView):
    """Multipart field `file` (CSV or XLSX), optional field `format`. Re-posting a file is harmless."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "HotlineImportUpload",
                fields={
                    "file": serializers.FileField(),
                    "format": serializers.ChoiceField(choices=FORMATS, required=False),
                },
            )
        },
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request.user)
        if not (scope.sees_all or scope.has_role(*IMPORT_ROLES)):
            raise Forbidden(_("Only the district or a street command centre may import hotline orders."))
        upload = request.FILES.get("file")
        if upload is None:
            raise DomainError(_("Attach the export as the field “file”."), code="file_required")
        if upload.size > MAX_UPLOAD_BYTES:
            raise DomainError(
                _("The file is larger than %(mb)d MB; split the export.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
                code="file_too_large",
                extra={"max_bytes": MAX_UPLOAD_BYTES},
            )
        fmt = request.data.get("format") or None
        if fmt is not None and fmt not in FORMATS:
            raise DomainError(_("Unknown format “%(fmt)s”; use csv or xlsx.") % {"fmt": fmt}, code="bad_format")
        report = hotline_import(file=upload, fmt=fmt, actor=request.user)
        return Response(report.as_dict())


urlpatterns = [
    path("hotline/import/", HotlineImportApi.as_view(), name="api-hotline-import"),
]
