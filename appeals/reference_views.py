"""设置 › categories and time limits: the taxonomy and how long each tier has, with the history.

Part of the staff's reference pages (governance/reference_views.py holds the others and the
section's tabs); mounted in the `reference` namespace by governance/urls.py. Read-only: the
administrators change categories and limits in the admin, where a change is a new row in force
from then on (appeals/admin.py) — which is the history this page shows.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from appeals.models import Category, HandlingMode, Tier, TimeLimit
from appeals.services.deadlines import DEFAULT_LIMITS, limits_for
from governance.reference_views import require_staff, sections
from governance.workcalendar import TimeUnit

PAGE_SIZE = 50
SEARCH_MAX = 64


def _versions(rows: list[TimeLimit], now) -> list[dict]:
    """Each row with its state: in force now, replaced by a later row, or in force from a later date."""
    newest_started: dict[tuple, int] = {}
    for row in sorted(rows, key=lambda r: (r.effective_from, r.pk)):
        if row.effective_from <= now:
            newest_started[(row.category_id, row.handling_mode, row.tier)] = row.pk
    result = []
    for row in sorted(rows, key=lambda r: (r.tier, r.handling_mode, r.effective_from), reverse=False):
        key = (row.category_id, row.handling_mode, row.tier)
        if row.effective_from > now:
            state = "scheduled"
        elif newest_started.get(key) == row.pk:
            state = "in_force"
        else:
            state = "replaced"
        result.append({"row": row, "state": state})
    return result


def limit_text(amount, unit: str) -> str:
    """`2 working hours`, the amount without trailing zeros."""
    return f"{amount.normalize():f} {TimeUnit(unit).label}"


def _tier_table(category_id: int | None) -> list[dict]:
    """What each tier has now for a petition of this sub-class (any handling mode), after fallbacks."""
    table = []
    for tier in Tier:
        limits = limits_for(category_id=category_id, handling_mode="", tier=tier)
        table.append(
            {
                "tier": tier.label,
                "accept": limit_text(limits.accept.amount, limits.accept.unit),
                "handle": limit_text(limits.handle.amount, limits.handle.unit),
                "built_in": limits is DEFAULT_LIMITS[tier],
            }
        )
    return table


@login_required
def categories(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    q = request.GET.get("q", "").strip()[:SEARCH_MAX]
    queryset = (
        Category.objects.filter(parent__isnull=False)
        .select_related("parent", "default_department")
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")
    )
    if q:
        queryset = queryset.filter(
            Q(code__icontains=q) | Q(name__icontains=q) | Q(parent__name__icontains=q) | Q(parent__code__iexact=q)
        )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    own: dict[int, list[TimeLimit]] = defaultdict(list)
    for row in TimeLimit.objects.filter(category__in=[c.pk for c in page]):
        own[row.category_id].append(row)
    rows = []
    for category in page:
        versions = _versions(own.get(category.pk, []), now)
        rows.append(
            {
                "category": category,
                "in_force": [v["row"] for v in versions if v["state"] == "in_force"],
                "versions": len(versions),
            }
        )
    defaults = _versions(list(TimeLimit.objects.filter(category__isnull=True)), now)
    return render(
        request,
        "governance/reference_categories.html",
        {
            "sections": sections(request),
            "current": "reference:categories",
            "page": page,
            "rows": rows,
            "q": q,
            "query": urlencode({"q": q}) if q else "",
            "tiers": _tier_table(None),
            "defaults": defaults,
        },
    )


@login_required
def category_detail(request: HttpRequest, code: str) -> HttpResponse:
    require_staff(request)
    try:
        category = Category.objects.select_related("parent", "default_department").get(code=code)
    except Category.DoesNotExist:
        raise Http404 from None
    now = timezone.now()
    rows = list(TimeLimit.objects.filter(category=category).order_by("tier", "handling_mode", "-effective_from"))
    versions = sorted(_versions(rows, now), key=lambda v: v["row"].effective_from, reverse=True)
    children = list(category.children.order_by("sort_order", "code")) if category.parent_id is None else []
    return render(
        request,
        "governance/reference_category.html",
        {
            "sections": sections(request),
            "current": "reference:categories",
            "category": category,
            "children": children,
            "tiers": _tier_table(category.pk) if category.parent_id else [],
            "versions": versions,
            "modes": dict(HandlingMode.choices),
        },
    )
