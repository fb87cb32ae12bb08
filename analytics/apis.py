"""REST API of monthly reports: the versions a user may see, and one version with every figure.

Scoped like everything else: a user sees the reports of the areas in their subtree
(`analytics.selectors.reports`); another area's report answers 404 as a missing one does.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView, RetrieveAPIView

from analytics.selectors.reports import report_get_for_user, reports_of_month
from analytics.serializers import (
    MONTH_REGEX,
    ReportDetailSerializer,
    ReportQuerySerializer,
    ReportSummarySerializer,
)
from appeals.serializers import ErrorSerializer

QUERY_PARAMETERS = [
    OpenApiParameter(
        "area",
        {"type": "string", "maxLength": 32, "pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"},
        description="An area code: that area's reports only.",
    ),
    OpenApiParameter("month", {"type": "string", "pattern": MONTH_REGEX}, description="YYYY-MM (Beijing time)."),
]
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="validation_error: a bad area code or month"),
    403: OpenApiResponse(ErrorSerializer, description="forbidden"),
    404: OpenApiResponse(ErrorSerializer, description="not_found (also when outside your scope)"),
}


class ReportListApi(ListAPIView):
    """Report versions, newest month first: filter by `area` (code) and `month` (YYYY-MM)."""

    serializer_class = ReportSummarySerializer
    filter_backends: list = []

    @extend_schema(parameters=QUERY_PARAMETERS, responses={200: ReportSummarySerializer(many=True), **ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = ReportQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        year, month = query.validated_data.get("month", (None, None))
        return reports_of_month(self.request.user, area_code=query.validated_data.get("area"), year=year, month=month)


class ReportDetailApi(RetrieveAPIView):
    """One version with every figure as JSON (REPORT_CONTRACT.md)."""

    serializer_class = ReportDetailSerializer

    @extend_schema(responses={200: ReportDetailSerializer, **ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        return report_get_for_user(self.request.user, report_id=self.kwargs["report_id"])


urlpatterns = [
    path("reports/", ReportListApi.as_view(), name="api-report-list"),
    path("reports/<int:report_id>/", ReportDetailApi.as_view(), name="api-report-detail"),
]
