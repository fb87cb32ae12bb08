from django.contrib import admin

from analytics.models import RecommendationRule


@admin.register(RecommendationRule)
class RecommendationRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "severity", "threshold", "min_count", "max_items", "is_active", "sort_order"]
    list_filter = ["kind", "severity", "is_active"]
    list_editable = ["is_active", "sort_order"]
    search_fields = ["name", "text_template"]
    readonly_fields = ["updated_at"]
