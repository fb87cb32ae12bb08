"""The Django admin for staff, posts and departments: administrators only.

The site itself refuses everyone else (governance/admin_site.py); the permission methods below say
the same, so a model admin stays closed if it is ever mounted on another site. Other staff read
these tables in the 设置 pages (governance/reference_views.py), scoped to their subtree.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest

from governance.models import Department, Heartbeat, StaffPost
from governance.reference_selectors import staff_posts_visible_to
from governance.scoping import scope_for


class ScopedAdminMixin:
    """Restricts an admin's queryset (and so every change view) through the user's scope."""

    scope_path_field: str | None = "path"
    scope_department_field: str | None = None

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        return scope_for(request.user).filter(
            queryset, path_field=self.scope_path_field, department_field=self.scope_department_field
        )

    def _scope_ok(self, request: HttpRequest) -> bool:
        return request.user.is_active and scope_for(request.user).sees_all

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or self._scope_ok(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser or self._scope_ok(request)


class AdministratorWriteMixin:
    """Only administrators change these tables; everyone in scope may view."""

    def _is_admin(self, request: HttpRequest) -> bool:
        return scope_for(request.user).sees_all

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return self._is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)


class StaffViewMixin:
    """Reference tables (calendar, taxonomy): administrators here; other staff read them in 设置."""

    def _is_staff_member(self, request: HttpRequest) -> bool:
        return request.user.is_active and scope_for(request.user).sees_all

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or self._is_staff_member(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser or self._is_staff_member(request)


@admin.register(Department)
class DepartmentAdmin(AdministratorWriteMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "short_name"]
    scope_path_field = None
    scope_department_field = "pk"


@admin.register(StaffPost)
class StaffPostAdmin(AdministratorWriteMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "role", "area", "department", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "area__name", "department__name"]
    raw_id_fields = ["user", "area", "department"]
    list_select_related = ["user", "area", "department"]

    def get_queryset(self, request: HttpRequest):
        # The same rows as the 设置 staff page (one scoping rule for both).
        return staff_posts_visible_to(request.user)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "at"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


# The working calendar: imports kept here so the existing admin above stays untouched.
from django.contrib import messages  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.translation import gettext  # noqa: E402

from governance.models import CalendarDay  # noqa: E402
from governance.workcalendar import (  # noqa: E402
    calendar_cache_clear,
    calendar_coverage_warnings,
    statutory_covers_year,
)


@admin.register(CalendarDay)
class CalendarDayAdmin(AdministratorWriteMixin, StaffViewMixin, admin.ModelAdmin):
    """Holidays and swapped working days that override the chinese-calendar package."""

    list_display = ["date", "kind", "name", "effective_from", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "date"
    # Rows are history: a row takes effect when it is saved, and changing one saves a new version
    # (deadlines started before keep the calendar they were computed with).
    readonly_fields = ["effective_from"]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        for year in calendar_coverage_warnings():
            if statutory_covers_year(year):
                text = gettext(
                    "The official swapped working days (调休) of %(year)s are not known yet: deadlines use the "
                    "statutory holidays and count every weekend as days off. Enter that year's swapped working "
                    "days here once the State Council publishes them."
                )
            else:
                text = gettext(
                    "The holiday calendar has no data for %(year)s: deadlines count Monday to Friday as working "
                    "days. Enter that year's holidays and swapped working days here."
                )
            messages.warning(request, text % {"year": year})
        return super().changelist_view(request, extra_context)

    # Deadlines read the rows through a per-process cache; drop it once the change is committed
    # so this process uses the new calendar at once (others within OVERRIDES_TTL_SECONDS).
    def save_model(self, request, obj, form, change):
        if change:
            obj.pk, obj.effective_from = None, timezone.now()
        super().save_model(request, obj, form, change)
        transaction.on_commit(calendar_cache_clear)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(calendar_cache_clear)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(calendar_cache_clear)


# API clients: appended here so the admin above stays untouched.
from django.utils.translation import gettext_lazy  # noqa: E402

from governance.models import ApiClient  # noqa: E402


@admin.register(ApiClient)
class ApiClientAdmin(AdministratorWriteMixin, admin.ModelAdmin):
    """Administrators only. The plain key is shown once, in a message after add or "new key"."""

    list_display = ["name", "key_prefix", "is_active", "created_at", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "key_prefix"]
    fields = ["name", "is_active", "key_prefix", "created_at", "last_used_at"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    actions = ["issue_new_key"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)

    def _show_key(self, request: HttpRequest, client: ApiClient, key: str) -> None:
        messages.warning(
            request,
            gettext("API key for %(name)s: %(key)s — copy it now; it will not be shown again.")
            % {"name": client.name, "key": key},
        )

    def save_model(self, request, obj, form, change):
        key = None if change else obj.set_new_key()
        super().save_model(request, obj, form, change)
        if key is not None:
            self._show_key(request, obj, key)

    @admin.action(description=gettext_lazy("Issue a new key (the old one stops working)"))
    def issue_new_key(self, request: HttpRequest, queryset) -> None:
        for client in queryset:
            key = client.set_new_key()
            client.save(update_fields=["key_prefix", "key_hash"])
            self._show_key(request, client, key)


# The admin of areas lives here (it needs staff scoping, and grids imports nothing of ours).
from governance import area_admin  # noqa: E402, F401

# The access log: appended here so the admin above stays untouched.
from governance.models import AccessLog  # noqa: E402

# The fields whose unmasked views are logged, for the "field" filter.
LOGGED_FIELDS = ("contact_phone", "contact_name", "title", "description", "reply", "address", "timeline")


class AccessLogFieldFilter(admin.SimpleListFilter):
    title = gettext_lazy("field")
    parameter_name = "field"

    def lookups(self, request, model_admin):
        return [(name, name) for name in LOGGED_FIELDS]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        # Fields are stored comma-separated: match one whole name.
        return queryset.filter(
            Q(fields=value)
            | Q(fields__startswith=f"{value},")
            | Q(fields__endswith=f",{value}")
            | Q(fields__contains=f",{value},")
        )


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Who saw which personal data unmasked, or exported it: searchable, never changed.

    Administrators read it here (the district centre on its own page); nobody edits it.
    """

    list_display = ["at", "actor", "reason", "model", "record", "fields", "ip", "path"]
    list_filter = ["reason", AccessLogFieldFilter, "model", ("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["record", "actor", "ip", "object_id"]
    date_hierarchy = "at"
    list_select_related = ["user"]
    readonly_fields = ["at", "user", "actor", "reason", "model", "object_id", "record", "fields", "ip", "path"]
    fields = readonly_fields
    show_full_result_count = False

    def _may_read(self, request: HttpRequest) -> bool:
        # The district centre reads the log on its own page (governance/reference_views.py).
        return request.user.is_superuser or scope_for(request.user).sees_all

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_read(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_read(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
