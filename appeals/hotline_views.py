"""The 12345 reply-back (回单) pages: the district's list, and its export as CSV or XLSX.

The list masks personal data inside reply texts (it is for checking what is owed); the exports
carry the replies as the hotline must receive them, in its columns (HOTLINE_REPLY_COLUMNS), and
every exported row is written to the access log. Both are scoped: a street sees its own streets'.
"""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.hotline_replies import (
    column_headers,
    column_rows,
    decode_cursor,
    replies_visible_to,
    require_reply_reader,
)
from appeals.models import HotlineReply, HotlineReplyResult
from governance.accesslog import access_log_write, access_record
from governance.errors import DomainError, Forbidden
from governance.exports import safe_row
from governance.models import AccessReason
from governance.privacy import mask_text

PAGE_SIZE = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _reader(request: HttpRequest) -> None:
    try:
        require_reply_reader(request.user)
    except Forbidden as error:
        raise PermissionDenied(str(error)) from None


def _filtered(request: HttpRequest):
    queryset = replies_visible_to(request.user)
    result = request.GET.get("result", "")
    if result in HotlineReplyResult.values:
        queryset = queryset.filter(result=result)
    order_no = request.GET.get("q", "").strip()
    if order_no:
        queryset = queryset.filter(order_no__icontains=order_no[:64])
    return queryset


@login_required
def reply_list(request: HttpRequest) -> HttpResponse:
    _reader(request)
    queryset = _filtered(request).order_by("-resolved_at", "-pk")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"reply": reply, "text": mask_text(reply.reply), "at": timezone.localtime(reply.resolved_at)} for reply in page
    ]
    query = "&".join(f"{key}={value}" for key, value in request.GET.items() if key != "page" and value)
    return render(
        request,
        "appeals/hotline_replies.html",
        {
            "page": page,
            "rows": rows,
            "query": query,
            "results": HotlineReplyResult.choices,
            "result": request.GET.get("result", ""),
            "q": request.GET.get("q", ""),
            "headers": column_headers(),
        },
    )


def _export_rows(request: HttpRequest) -> list[HotlineReply]:
    _reader(request)
    queryset = _filtered(request)
    after = request.GET.get("after", "")
    if after:
        txid, pk = decode_cursor(after)  # a DomainError: the export views answer 400
        queryset = queryset.filter(txid__gt=txid) | queryset.filter(txid=txid, pk__gt=pk)
    replies = list(queryset.order_by("txid", "pk"))
    access_log_write(
        user=request.user,
        reason=AccessReason.EXPORT,
        records=[access_record(reply, ["reply"], record=reply.tracking_no) for reply in replies],
        request=request,
    )
    return replies


def _bad_request(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(request, "bad_request.html", {"message": error.message}, status=400)


def _filename(extension: str) -> str:
    return f"hotline-replies-{timezone.localtime():%Y%m%d-%H%M}.{extension}"


@login_required
def reply_export_csv(request: HttpRequest) -> HttpResponse:
    try:
        replies = _export_rows(request)
    except DomainError as error:
        return _bad_request(request, error)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(safe_row(column_headers()))
    for row in column_rows(replies):
        writer.writerow(safe_row(row))
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


@login_required
def reply_export_xlsx(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook

    try:
        replies = _export_rows(request)
    except DomainError as error:
        return _bad_request(request, error)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Hotline replies"))
    sheet.append(safe_row(column_headers()))
    for row in column_rows(replies):
        sheet.append(safe_row(row))
    content = io.BytesIO()
    workbook.save(content)
    response = HttpResponse(content.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response


app_name = "hotline"
urlpatterns = [
    path("replies/", reply_list, name="replies"),
    path("replies/export.csv", reply_export_csv, name="replies_csv"),
    path("replies/export.xlsx", reply_export_xlsx, name="replies_xlsx"),
]
