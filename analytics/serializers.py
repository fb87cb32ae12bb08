"""The report API's shapes: a version's summary in lists, the whole figures document in detail."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analytics.models import Report
from analytics.selectors.units import area_ref

# Strict enough that every month the schema admits is one the API accepts (2000-01 to 2099-12).
MONTH_REGEX = r"^(20\d\d)-(0[1-9]|1[0-2])$"
MONTH_PATTERN = re.compile(MONTH_REGEX)


class ReportQuerySerializer(serializers.Serializer):
    area = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="An area code; its reports only."
    )
    month = serializers.RegexField(
        MONTH_REGEX,
        required=False,
        max_length=7,
        help_text="YYYY-MM (Beijing time).",
        error_messages={"invalid": _lazy("Give the month as YYYY-MM, for example 2026-11.")},
    )

    def validate_month(self, value: str) -> tuple[int, int]:
        match = MONTH_PATTERN.match(value)
        return int(match[1]), int(match[2])


class AreaRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


class ReportSummarySerializer(serializers.ModelSerializer):
    area = serializers.SerializerMethodField()
    month = serializers.CharField(source="month_label")
    changed = serializers.SerializerMethodField(help_text="How many figures differ from the previous version.")

    class Meta:
        model = Report
        fields = [
            "id",
            "area",
            "month",
            "version",
            "status",
            "state",
            "progress",
            "phase",
            "generated_at",
            "published_at",
            "changed",
        ]

    @extend_schema_field(AreaRefSerializer)
    def get_area(self, report: Report) -> dict:
        return area_ref(report.area)

    def get_changed(self, report: Report) -> int | None:
        return (report.changes or {}).get("count")


class ReportDetailSerializer(ReportSummarySerializer):
    figures = serializers.SerializerMethodField(help_text="Every figure (REPORT_CONTRACT.md, schema 1).")
    changes = serializers.SerializerMethodField(help_text="What moved against the previous version.")
    error_message = serializers.CharField(read_only=True)

    class Meta(ReportSummarySerializer.Meta):
        fields = [*ReportSummarySerializer.Meta.fields, "error_message", "changes", "figures"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_figures(self, report: Report) -> dict:
        return report.figures

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_changes(self, report: Report) -> dict:
        return report.changes
