"""REST API of petitions: scoped list and detail, submission, every transition, stats, public tracking.

Each view parses input, fetches the petition through the caller's scope (missing and out of scope
are the same 404), calls one service and renders. Refusals are `governance.errors.DomainError`s,
rendered as `{"message", "code", "extra"}` by the project's exception handler.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from appeals import policy
from appeals import serializers as s
from appeals.actions import BY_SLUG, REGISTRY, Action, action_perform
from appeals.filters import PetitionFilter, PetitionPeriodFilter
from appeals.models import (
    Assignment,
    ExtensionRequest,
    Petition,
    PetitionEvent,
    Rating,
    Status,
    overdue_condition,
)
from appeals.selectors import (
    LIST_DEFERRED,
    list_ordered,
    petition_get_for_user,
    petition_resident_view,
    petitions_listed_counted,
    petitions_listed_for,
    petitions_visible_to,
)
from appeals.services import (
    petition_submit,
)
from appeals.services.tracking import petition_track_lookup
from governance.accesslog import AccessRecord, access_log_write
from governance.clientip import client_ip
from governance.errors import DomainError
from governance.limits import SettingRateThrottle
from governance.models import AccessReason
from governance.pagination import (
    CappedCountPagination,
    KeptList,
    estimated_count,
    kept_estimate,
    kept_list,
    values_page,
)
from governance.scoping import scope_for
from governance.selectors import area_at_path
from governance.sessions import request_user
from grids.models import AreaLevel

LIST_RELATED = ("category", "handler_area", "handler_department")
TOP_CATEGORIES = 10
IDEMPOTENCY_KEY_MAX = 64

ERRORS = {
    400: OpenApiResponse(s.ErrorSerializer, description="validation_error or a refused operation"),
    403: OpenApiResponse(s.ErrorSerializer, description="forbidden"),
    404: OpenApiResponse(s.ErrorSerializer, description="not_found (also when outside your scope)"),
    409: OpenApiResponse(s.ErrorSerializer, description="invalid_transition; extra.allowed lists the moves"),
}
RATE_LIMITED = OpenApiResponse(s.ErrorSerializer, description="rate_limited; Retry-After says when to come back")
TRACK_ERRORS = {
    404: OpenApiResponse(s.ErrorSerializer, description="tracking_not_found: wrong number, wrong phone or locked"),
    429: RATE_LIMITED,
    503: OpenApiResponse(s.ErrorSerializer, description="tracking_unavailable: the look-up limits cannot be checked"),
}


def _validation_error(field: str, message: str) -> DomainError:
    return DomainError(_("Some fields are not valid."), code="validation_error", extra={"fields": {field: [message]}})


def _with_details(petition: Petition) -> Petition:
    """Load what the detail serializer reads, one query per relation."""
    prefetch_related_objects(
        [petition],
        Prefetch("events", queryset=PetitionEvent.objects.select_related("actor").order_by("created_at", "id")),
        Prefetch("assignments", queryset=Assignment.objects.select_related("department").order_by("id")),
        Prefetch("extensions", queryset=ExtensionRequest.objects.order_by("id")),
        "photos",
    )
    return petition


def _detail(request: Request, petition: Petition) -> dict[str, Any]:
    """Staff get the full record; a resident exactly what their tracking page shows."""
    if not scope_for(request.user).is_staff_member:
        return s.PublicPetitionSerializer(petition_resident_view(petition)).data
    return s.PetitionDetailSerializer(_with_details(petition), context={"request": request}).data


# Staff read PetitionDetail; the resident who filed the petition reads PublicPetition.
DETAIL_RESPONSE = PolymorphicProxySerializer(
    component_name="PetitionDetailOrPublic",
    serializers=[s.PetitionDetailSerializer, s.PublicPetitionSerializer],
    resource_type_field_name=None,
)


# --- List, create, detail ---------------------------------------------------------------------------


class CreateThrottle(SettingRateThrottle):
    """Submissions per signed-in user (RATE_API_CREATE); fails open, the caller is accountable."""

    scope = "api-create"
    rate_setting = "RATE_API_CREATE"


class PetitionListPagination(CappedCountPagination):
    """`CappedCountPagination` of the staff list: counted as cheaply as the list allows
    (`petitions_listed_counted`: a department's whole list on its parts), its page read as the list
    rows' values (`s.LIST_ROW_VALUES`)."""

    def __init__(self, listed: QuerySet[Petition] | None) -> None:
        self.listed = listed  # the caller's whole list (`petitions_listed_for`), before any filter; None: kept

    def get_count(self, queryset: QuerySet[Petition]) -> int:
        return super().get_count(petitions_listed_counted(self.request.user, queryset, listed=self.listed))

    def paginate_queryset(self, queryset: QuerySet[Petition], request: Request, view: Any = None) -> list:
        # DRF's LimitOffsetPagination.paginate_queryset, with the page read as values (its SQL
        # compiled once per shape, `values_page`): the count stays on the model queryset (a values
        # queryset's capped count would select every column).
        self.request = request
        self.limit = self.get_limit(request)
        self.count = self.get_count(queryset)
        self.offset = self.get_offset(request)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        if self.count == 0 or self.offset > self.count:
            return []
        return values_page(queryset, s.LIST_ROW_VALUES, self.offset, self.limit)

    def paginate_kept(self, kept: KeptList, request: Request, now: Any, estimate: Callable[[], int | None]) -> list:
        """`paginate_queryset` of the list's kept statements: the count and the page in one."""
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        counted, rows = kept.count_and_page(now, self.offset, self.limit)
        self.count_exact = counted <= self.count_cap
        self.count = counted if self.count_exact else max(self.count_cap + 1, estimate() or 0)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        return rows


class PetitionListCreateApi(ListAPIView):
    serializer_class = s.PetitionListSerializer
    pagination_class = CappedCountPagination
    filterset_class = PetitionFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["created_at", "deadline_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Petition]:
        queryset = petitions_listed_for(self.request.user)
        if self.get_serializer_class() is s.PetitionListSerializer:
            return queryset  # read as values (`list`): nothing to select or defer
        return queryset.select_related(*LIST_RELATED).defer(*LIST_DEFERRED)

    def filter_queryset(self, queryset: QuerySet[Petition]) -> QuerySet[Petition]:
        # A request naming none of the filters (the list's first page) skips django-filter: its
        # FilterSet and form deep-copy every filter and field (~1 ms) to change nothing, since
        # every filter of PetitionFilter is a no-op when empty.
        params = self.request.query_params
        filtered = any(name in params for name in PetitionFilter.base_filters)
        for backend in self.filter_backends:
            if backend is DjangoFilterBackend and not filtered:
                continue
            queryset = backend().filter_queryset(self.request, queryset, self)
        return list_ordered(self.request.user, queryset)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        # A resident lists their own petitions as their "My petitions" page shows them.
        request = getattr(self, "request", None)
        if request is not None and request.method == "GET" and not scope_for(request.user).is_staff_member:
            return s.ResidentPetitionListSerializer
        return s.PetitionListSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if self.get_serializer_class() is not s.PetitionListSerializer:
            return super().list(request, *args, **kwargs)
        # Staff: the page is read as values and rendered by `s.list_rows`, PetitionListSerializer's
        # rows without a model instance per row (tests/appeals/test_request_cost.py compares them).
        user = request_user(request._request)  # DRF sets it on the HttpRequest too (the session's)
        paginator, values = self._kept_page(request, user) if self._plain(request) else self._page(request)
        rows = s.list_rows(values, user=user, access_log=self.access_log)
        return paginator.get_paginated_response(rows)

    def _page(self, request: Request) -> tuple[PetitionListPagination, list]:
        listed = self.get_queryset()
        paginator = PetitionListPagination(listed)
        return paginator, paginator.paginate_queryset(self.filter_queryset(listed), request, view=self)

    def _plain(self, request: Request) -> bool:
        """The list with no filter and its own order: every request of a user the same statements."""
        params = request.query_params
        return "ordering" not in params and not any(name in params for name in PetitionFilter.base_filters)

    def _kept_page(self, request: Request, user: Any) -> tuple[PetitionListPagination, list]:
        """The plain list's page by its statements kept per user and scope (`kept_list`): the same
        rows and count as `filter_queryset(get_queryset())` without building and compiling them."""

        def build(moment: Any) -> tuple[QuerySet[Petition], QuerySet]:
            listed = petitions_listed_for(user)
            ordered = list_ordered(user, listed.order_by(*self.ordering))
            return ordered, petitions_listed_counted(user, ordered, listed=listed)

        now = timezone.now()
        key = ("api-petitions", user.pk, scope_for(user))
        kept = kept_list(key, build, now, count_limit=PetitionListPagination.count_cap + 1, values=s.LIST_ROW_VALUES)
        if kept is None:
            return self._page(request)
        paginator = PetitionListPagination(None)
        estimate = partial(kept_estimate, key, lambda: estimated_count(build(now)[1]))
        return paginator, paginator.paginate_kept(kept, request, now, estimate)

    def get_serializer_context(self) -> dict[str, Any]:
        # The page's unmasked values are access-logged in one statement after rendering.
        return {**super().get_serializer_context(), "access_log": getattr(self, "access_log", None)}

    def get_throttles(self) -> list:
        return [CreateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        summary="Petitions in your scope (staff), or the ones you filed (a resident)",
        responses=PolymorphicProxySerializer(
            component_name="PetitionListRow",
            serializers=[s.PetitionListSerializer, s.ResidentPetitionListSerializer],
            resource_type_field_name=None,
            many=True,
        ),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.access_log: list[AccessRecord] = []
        response = super().get(request, *args, **kwargs)
        access_log_write(user=request.user, reason=AccessReason.HANDLER_VIEW, records=self.access_log, request=request)
        return response

    @extend_schema(
        summary="Submit a petition (staff entry or a signed-in resident)",
        request=s.PetitionCreateSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", str, OpenApiParameter.HEADER, description="A retry with the same key returns 200."
            )
        ],
        responses={201: s.PetitionCreatedSerializer, 200: s.PetitionCreatedSerializer, **ERRORS, 429: RATE_LIMITED},
    )
    def post(self, request: Request) -> Response:
        params = s.PetitionCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        user = request.user
        scope = scope_for(user)
        key = request.headers.get("Idempotency-Key") or data.get("idempotency_key") or ""
        if len(key) > IDEMPOTENCY_KEY_MAX:
            raise _validation_error("idempotency_key", _("At most %(n)s characters.") % {"n": IDEMPOTENCY_KEY_MAX})
        reported_area = data.get("reported_area")
        if scope.is_staff_member:
            channel = data.get("channel") or "staff"
            if reported_area is not None and not scope.sees_area(reported_area):
                raise _validation_error("reported_area", _("You can only name an area inside your own."))
            if reported_area is None and len(scope.area_paths) == 1:
                # Staff of one area: an unlocated petition waits in their own area's queue.
                reported_area = area_at_path(scope.area_paths[0])
            submitter, actor = None, user
        else:
            channel = "mobile"
            if reported_area is not None and reported_area.level != AreaLevel.COMMUNITY:
                raise _validation_error("reported_area", _("Name your community."))
            submitter, actor = user, user
        submission = petition_submit(
            channel=channel,
            title=data["title"],
            description=data["description"],
            contact_phone=data["contact_phone"],
            contact_name=data["contact_name"],
            category=data.get("category"),
            lon=data.get("lon"),
            lat=data.get("lat"),
            address=data["address"],
            reported_area=reported_area,
            submitter=submitter,
            need_type=data["need_type"],
            urgency=data["urgency"],
            # Keys are per user: one caller's key can never return another caller's petition.
            idempotency_key=f"u{user.pk}:{key}" if key else None,
            actor=actor,
        )
        petition = submission.petition
        return Response(
            s.PetitionCreatedSerializer(petition).data,
            status=status.HTTP_201_CREATED if submission.created else status.HTTP_200_OK,
            headers={"Location": reverse("api-petition-detail", args=[petition.tracking_no])},
        )


class PetitionDetailApi(GenericAPIView):
    queryset = Petition.objects.none()  # for the schema; reads go through petition_get_for_user
    serializer_class = s.PetitionDetailSerializer

    @extend_schema(summary="One petition with its timeline", responses={200: DETAIL_RESPONSE, 404: ERRORS[404]})
    def get(self, request: Request, tracking_no: str) -> Response:
        return Response(_detail(request, petition_get_for_user(request.user, tracking_no=tracking_no)))


# --- Transitions -------------------------------------------------------------------------------------


class PetitionActionApi(GenericAPIView):
    """Base of the per-action views made by `_action_view`."""

    queryset = Petition.objects.none()  # for the schema; reads go through petition_get_for_user
    action_name = ""

    def act(self, request: Request, tracking_no: str) -> Response:
        action = BY_SLUG[self.action_name]
        petition = petition_get_for_user(request.user, tracking_no=tracking_no)
        policy.require(request.user, action.name, petition)  # who may, before what they sent
        params = action.serializer(data=request.data)
        params.is_valid(raise_exception=True)
        action_perform(action.name, petition=petition, actor=request.user, data=params.validated_data)
        # Reload by id: the action may have moved the petition out of the caller's scope (a
        # department returning it), and the caller is entitled to see the result of their act.
        return Response(_detail(request, Petition.objects.select_related(*LIST_RELATED).get(pk=petition.pk)))


def _action_view(action: Action) -> type[PetitionActionApi]:
    class View(PetitionActionApi):
        action_name = action.slug

        @extend_schema(
            operation_id=f"petitions_{action.name}",
            summary=action.summary,
            request=action.serializer,
            responses={200: DETAIL_RESPONSE, **ERRORS},
        )
        def post(self, request: Request, tracking_no: str) -> Response:
            return self.act(request, tracking_no)

    View.__name__ = View.__qualname__ = "Petition" + "".join(part.title() for part in action.name.split("_")) + "Api"
    return View


# --- Statistics ----------------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def petition_stats(queryset: QuerySet[Petition]) -> dict[str, Any]:
    """The figures the district reads, for any scoped queryset, in four aggregate queries.

    Response: accepted/replied/reported-in among routed petitions. Resolution: resolved or closed
    among all but merged ones. Satisfaction: satisfied or basically satisfied among rated ones.
    """
    queryset = queryset.order_by()
    not_routed = [Status.SUBMITTED, Status.MERGED]
    figures = queryset.aggregate(
        total=Count("pk"),
        counted=Count("pk", filter=~Q(status=Status.MERGED)),
        routed=Count("pk", filter=~Q(status__in=not_routed)),
        responded=Count("pk", filter=~Q(status__in=not_routed) & Q(first_response_at__isnull=False)),
        resolved=Count("pk", filter=Q(status__in=[Status.RESOLVED, Status.CLOSED])),
        rated=Count("pk", filter=~Q(rating="")),
        satisfied=Count("pk", filter=Q(rating__in=[Rating.SATISFIED, Rating.BASIC])),
        overdue=Count("pk", filter=overdue_condition(timezone.now())),
        supervised=Count("pk", filter=Q(supervised=True)),
        with_repeats=Count("pk", filter=Q(repeat_count__gt=0)),
        repeats=Count("pk", filter=Q(repeat_of__isnull=False)),
    )
    by_status = dict(queryset.values_list("status").annotate(n=Count("pk")))
    by_tier = {str(tier or ""): n for tier, n in queryset.values_list("tier").annotate(n=Count("pk"))}
    top = (
        queryset.filter(category__isnull=False)
        .values("category__code", "category__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "category__code")[:TOP_CATEGORIES]
    )
    return {
        "total": figures["total"],
        "by_status": by_status,
        "by_tier": by_tier,
        "overdue": figures["overdue"],
        "supervised": figures["supervised"],
        "response_rate": _rate(figures["responded"], figures["routed"]),
        "resolution_rate": _rate(figures["resolved"], figures["counted"]),
        "satisfaction_rate": _rate(figures["satisfied"], figures["rated"]),
        "with_repeats": figures["with_repeats"],
        "repeats": figures["repeats"],
        "top_categories": [
            {"code": row["category__code"], "name": row["category__name"], "count": row["count"]} for row in top
        ],
    }


class PetitionStatsApi(GenericAPIView):
    queryset = Petition.objects.none()  # for the schema; reads go through petitions_visible_to
    filterset_class = PetitionPeriodFilter
    filter_backends = [DjangoFilterBackend]

    @extend_schema(
        summary="Volumes and the three rates of your scope",
        parameters=[
            OpenApiParameter("created_after", OpenApiTypes.DATETIME, description="ISO 8601"),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME, description="ISO 8601"),
        ],
        responses={200: s.StatsSerializer, 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        queryset = self.filter_queryset(petitions_visible_to(request.user))
        return Response(s.StatsSerializer(petition_stats(queryset)).data)


# --- Public tracking -------------------------------------------------------------------------------------


class TrackThrottle(SettingRateThrottle):
    """Requests per client address (RATE_TRACKING), on top of the per-number locks of the look-up."""

    scope = "track-api"
    rate_setting = "RATE_TRACKING"


class PublicTrackingMixin:
    """Anonymous: the tracking number and the phone given at submission identify the resident."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TrackThrottle]

    def lookup(self, data: dict[str, Any]) -> Petition:
        return petition_track_lookup(
            tracking_no=data["tracking_no"], contact_phone=data["phone"], client=client_ip(self.request)
        )

    @staticmethod
    def render(petition: Petition) -> Response:
        return Response(s.PublicPetitionSerializer(petition_resident_view(petition)).data)


class TrackApi(PublicTrackingMixin, GenericAPIView):
    serializer_class = s.PublicPetitionSerializer
    queryset = Petition.objects.none()

    @extend_schema(
        summary="Follow your petition (tracking number + phone)",
        parameters=[s.TrackQuerySerializer],
        responses={200: s.PublicPetitionSerializer, **TRACK_ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = s.TrackQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return self.render(self.lookup(params.validated_data))


class TrackRateApi(PublicTrackingMixin, GenericAPIView):
    serializer_class = s.TrackRateSerializer
    queryset = Petition.objects.none()

    @extend_schema(
        summary="Rate your petition's outcome", responses={200: s.PublicPetitionSerializer, **ERRORS, **TRACK_ERRORS}
    )
    def post(self, request: Request) -> Response:
        params = s.TrackRateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        petition = self.lookup(data)
        data = {**data, "contact_phone": petition.contact_phone}
        return self.render(action_perform("rate", petition=petition, actor=None, data=data))


class TrackReopenApi(PublicTrackingMixin, GenericAPIView):
    serializer_class = s.TrackReopenSerializer
    queryset = Petition.objects.none()

    @extend_schema(
        summary="Reopen your petition if unsatisfied",
        responses={200: s.PublicPetitionSerializer, **ERRORS, **TRACK_ERRORS},
    )
    def post(self, request: Request) -> Response:
        params = s.TrackReopenSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        petition = self.lookup(data)
        data = {**data, "contact_phone": petition.contact_phone}
        return self.render(action_perform("reopen", petition=petition, actor=None, data=data))


urlpatterns = [
    path("petitions/", PetitionListCreateApi.as_view(), name="api-petition-list"),
    path("petitions/stats/", PetitionStatsApi.as_view(), name="api-petition-stats"),
    path("petitions/<str:tracking_no>/", PetitionDetailApi.as_view(), name="api-petition-detail"),
    *[
        path(
            f"petitions/<str:tracking_no>/{action.slug}/",
            _action_view(action).as_view(),
            name=f"api-petition-{action.slug}",
        )
        for action in REGISTRY.values()
    ],
    path("track/", TrackApi.as_view(), name="api-track"),
    path("track/rate/", TrackRateApi.as_view(), name="api-track-rate"),
    path("track/reopen/", TrackReopenApi.as_view(), name="api-track-reopen"),
]
