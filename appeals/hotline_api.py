"""The 12345 hotline API: the import, and the reply-back (回单) feed (docs/hotline.md).

POST /api/v1/hotline/import/ stores the upload as a job and answers 202 with the job's URL; a worker
imports it all-or-nothing. GET /api/v1/hotline/imports/<id>/ shows the job's status, progress and,
once it ends, the per-row report. GET /api/v1/hotline/replies/?after=<cursor> lists the replies
owed to the hotline in a stable order, from a cursor; the same cursor always gives the same rows.
"""

from __future__ import annotations

from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.hotline import FORMATS
from appeals.hotline_replies import (
    CURSOR_PATTERN,
    MAX_LIMIT,
    decode_cursor,
    encode_cursor,
    field_value,
    parse_limit,
    replies_after,
    require_reply_reader,
)
from appeals.models import HotlineImportJob
from appeals.services.hotline_jobs import hotline_job_create, hotline_job_progress
from governance.accesslog import access_log_write, access_record
from governance.errors import DomainError, Forbidden, NotFound
from governance.models import AccessReason, Role
from governance.scoping import scope_for

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
IMPORT_ROLES = (Role.DISTRICT_CENTRE, Role.STREET_COMMAND)


def _require_importer(user) -> None:
    scope = scope_for(user)
    if not (scope.sees_all or scope.has_role(*IMPORT_ROLES)):
        raise Forbidden(_("Only the district or a street command centre may import hotline orders."))


def _job_body(request: Request, job: HotlineImportJob) -> dict:
    return {
        "id": job.pk,
        "url": request.build_absolute_uri(reverse("api-hotline-import-job", args=[job.pk])),
        "status": job.status,
        "file_name": job.file_name,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "progress": hotline_job_progress(job),
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "report": job.report or None,
    }


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
        responses={202: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        _require_importer(request.user)
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
        job = hotline_job_create(
            file_name=upload.name or "", content=upload.read(), file_format=fmt, actor=request.user
        )
        body = _job_body(request, job)
        return Response(body, status=202, headers={"Location": body["url"]})


class HotlineImportJobApi(APIView):
    """One import job: its status, progress and, once it ends, the report. Its importer's, or the district's."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, job_id: int) -> Response:
        _require_importer(request.user)
        jobs = HotlineImportJob.objects.defer("content")
        scope = scope_for(request.user)
        if not (scope.sees_all or scope.has_role(Role.DISTRICT_CENTRE)):
            jobs = jobs.filter(created_by=request.user)
        job = jobs.filter(pk=job_id).first()
        if job is None:
            raise NotFound(_("No such import job."))
        return Response(_job_body(request, job))


# The feed's query parameters, as raw schemas (the view checks them the same way).
FEED_PARAMETERS = [
    OpenApiParameter(
        "after",
        {"type": "string", "pattern": CURSOR_PATTERN},
        description="The `next` of an earlier answer; leave out to start from the first row.",
    ),
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        description="Rows per answer (default 100).",
    ),
]


REPLY_FIELDS = ("order_no", "tracking_no", "round", "result", "reply", "unit", "unit_code")


class HotlineReplyFeedApi(APIView):
    """The replies owed to the hotline, oldest first, `limit` (≤ 500, default 100) after `after`.

    `next` is the cursor to ask with next time (the given one when nothing new has come): taking the
    same cursor again answers the same rows, so a client that lost an answer simply asks again.
    """

    @extend_schema(
        parameters=FEED_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        require_reply_reader(request.user)
        after = request.query_params.get("after")
        if after is not None:
            decode_cursor(after)  # 400 bad_cursor, an empty value included: leave it out to start
        limit = parse_limit(request.query_params.get("limit"))
        rows, more = replies_after(request.user, after or "", limit=limit)
        results = [
            {
                **{field: field_value(reply, field) for field in REPLY_FIELDS},
                "result_code": reply.result,
                "resolved_at": timezone.localtime(reply.resolved_at).isoformat(),
                "cursor": encode_cursor(reply),
            }
            for reply in rows
        ]
        access_log_write(
            user=request.user,
            reason=AccessReason.EXPORT,
            records=[access_record(reply, ["reply"], record=reply.tracking_no) for reply in rows],
            request=request,
        )
        # `next`: the last row's cursor; else the one sent; null when none was sent and nothing is there yet.
        following = results[-1]["cursor"] if results else after
        return Response({"results": results, "next": following, "has_more": more})


urlpatterns = [
    path("hotline/import/", HotlineImportApi.as_view(), name="api-hotline-import"),
    path("hotline/imports/<int:job_id>/", HotlineImportJobApi.as_view(), name="api-hotline-import-job"),
    path("hotline/replies/", HotlineReplyFeedApi.as_view(), name="api-hotline-replies"),
]
