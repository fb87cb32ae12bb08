"""The bell: the user's notifications, read/unread, and the header's count (an htmx partial)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from appeals import inbox
from appeals.services.inbox import notification_mark_read, notifications_mark_all_read
from governance.privacy import mask_text

PAGE_SIZE = 30


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    page = Paginator(inbox.inbox_for(request.user, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "id": row.pk,
            "kind": inbox.kind_label(row.kind),
            # Titles quoted in a notice may carry a resident's phone or name: masked like lists.
            "message": mask_text(row.message),
            "created_at": row.created_at,
            "unread": row.read_at is None,
            "tracking_no": row.petition.tracking_no if row.petition_id else "",
        }
        for row in page.object_list
    ]
    return render(
        request,
        "appeals/notifications.html",
        {
            "rows": rows,
            "page": page,
            "unread_only": unread_only,
            "query": "show=unread" if unread_only else "",
            "unread": inbox.unread_count(request.user),
        },
    )


@login_required
@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark it read and go to its petition (or back to the list when it has none)."""
    row = notification_mark_read(user=request.user, notification_id=notification_id)
    if row is None:
        raise Http404
    if row.petition_id:
        return redirect("appeals:detail", row.petition.tracking_no)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = ""
    return redirect(target or "notifications:list")


@login_required
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The header's bell, re-rendered by htmx polling so the count follows without a reload."""
    return render(request, "appeals/_bell.html", {"bell_unread": inbox.unread_count(request.user)})
