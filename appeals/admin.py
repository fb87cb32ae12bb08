"""The admin of the petition taxonomy (editable by administrators) and read-only petition records.

Petitions, their events and notifications are never changed here: every change is a transition
service, which keeps the event trail and the deadlines right.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from appeals.models import Category, Notification, Petition, PetitionEvent, TimeLimit
from appeals.services.deadlines import limits_cache_clear
from governance.admin import AdministratorWriteMixin, ScopedAdminMixin, StaffViewMixin
from governance.scoping import scope_for


class ReadOnlyAdminMixin:
    """Viewing only: no add, change or delete, whatever the user's model permissions say."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class TimeLimitInline(admin.TabularInline):
    model = TimeLimit
    extra = 0
    fields = ["handling_mode", "tier", "accept_amount", "accept_unit", "handle_amount", "handle_unit", "effective_from"]
    readonly_fields = ["effective_from"]

    def _is_admin(self, request: HttpRequest) -> bool:
        return scope_for(request.user).sees_all

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_staff


@admin.register(Category)
class CategoryAdmin(AdministratorWriteMixin, StaffViewMixin, admin.ModelAdmin):
    list_display = ["code", "name", "parent", "kind", "default_department", "is_active", "sort_order"]
    list_filter = ["kind", "is_active", ("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name"]
    list_select_related = ["parent", "default_department"]
    ordering = ["parent__code", "sort_order", "code"]
    autocomplete_fields = ["parent"]
    inlines = [TimeLimitInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is TimeLimit:
            _version_changed_limits(formset)
        super().save_formset(request, form, formset, change)


def _version_changed_limits(formset) -> None:
    """A changed time limit is saved as a new row in force from now: the old one stays as history."""
    for inline_form in formset.forms:
        if inline_form.instance.pk and inline_form.has_changed() and not formset._should_delete_form(inline_form):
            inline_form.instance.pk, inline_form.instance.effective_from = None, timezone.now()


@admin.register(TimeLimit)
class TimeLimitAdmin(AdministratorWriteMixin, StaffViewMixin, admin.ModelAdmin):
    list_display = [
        "category",
        "handling_mode",
        "tier",
        "accept_amount",
        "accept_unit",
        "handle_amount",
        "handle_unit",
        "effective_from",
    ]
    list_filter = ["tier", "handling_mode"]
    search_fields = ["category__code", "category__name"]
    list_select_related = ["category__parent"]
    raw_id_fields = ["category"]
    # Rows are history: a limit takes effect when saved; changing one saves a new version.
    readonly_fields = ["effective_from"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.pk, obj.effective_from = None, timezone.now()
        super().save_model(request, obj, form, change)
        transaction.on_commit(limits_cache_clear)


class PetitionEventInline(admin.TabularInline):
    model = PetitionEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "type", "actor", "actor_label", "from_status", "to_status", "note"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return True


@admin.register(Petition)
class PetitionAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "area_path"
    list_display = ["tracking_no", "title", "category", "status", "tier", "handler_area", "overdue", "created_at"]
    list_filter = ["status", "tier", "channel", "overdue", "supervised", "urgency"]
    search_fields = ["tracking_no"]
    list_select_related = ["category__parent", "handler_area"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    # The phone is personal data: staff read it on the petition page, where the view is logged.
    exclude = ["contact_phone", "idempotency_key"]
    inlines = [PetitionEventInline]
    show_full_result_count = False


@admin.register(PetitionEvent)
class PetitionEventAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "petition__area_path"
    list_display = ["created_at", "petition", "type", "actor", "actor_label", "from_status", "to_status"]
    list_filter = ["type"]
    search_fields = ["petition__tracking_no"]
    list_select_related = ["petition", "actor"]
    raw_id_fields = ["petition", "actor"]
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox, for administrators diagnosing delivery."""

    list_display = ["created_at", "kind", "recipient", "petition", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["petition__tracking_no", "kind"]
    list_select_related = ["recipient", "petition"]
    exclude = ["phone"]
    raw_id_fields = ["recipient", "petition"]

    def _is_admin(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or (request.user.is_staff and scope_for(request.user).sees_all)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)
