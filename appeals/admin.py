"""The admin of the petition taxonomy (editable by administrators) and read-only petition records.

Petitions, their events and notifications are never changed here: every change is a transition
service, which keeps the event trail and the deadlines right.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from appeals.models import Category, Notification, Petition, PetitionEvent, TimeLimit
from appeals.services.sweeps import petition_sweep_failure_clear
from governance.admin import AdministratorWriteMixin, ScopedAdminMixin, StaffViewMixin
from governance.identity import person_name
from governance.models import Role
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
    fields = ["handling_mode", "tier", "accept_amount", "accept_unit", "handle_amount", "handle_unit"]

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


@admin.register(TimeLimit)
class TimeLimitAdmin(AdministratorWriteMixin, StaffViewMixin, admin.ModelAdmin):
    list_display = ["category", "handling_mode", "tier", "accept_amount", "accept_unit", "handle_amount", "handle_unit"]
    list_filter = ["tier", "handling_mode"]
    search_fields = ["category__code", "category__name"]
    list_select_related = ["category__parent"]
    raw_id_fields = ["category"]


class PetitionEventInline(admin.TabularInline):
    model = PetitionEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "type", "actor_name", "from_status", "to_status", "note"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return True

    @admin.display(description=_("actor"))
    def actor_name(self, event: PetitionEvent) -> str:
        return person_name(event.actor) if event.actor_id else event.actor_label_display


class SweepFailedFilter(admin.SimpleListFilter):
    title = _("sweep failures")
    parameter_name = "sweep_failed"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", _("A sweep failed on it")), ("no", _("No sweep failure"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "yes":
            return queryset.filter(sweep_failed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(sweep_failed_at__isnull=True)
        return queryset


@admin.register(Petition)
class PetitionAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "area_path"
    list_display = [
        "tracking_no",
        "title",
        "category",
        "status",
        "tier",
        "handler_area",
        "escalated_on_deadline",
        "sweep_failed_at",
        "created_at",
    ]
    list_filter = ["status", "tier", "channel", "escalated_on_deadline", "supervised", "urgency", SweepFailedFilter]
    actions = ["clear_sweep_failure"]
    search_fields = ["tracking_no"]
    list_select_related = ["category__parent", "handler_area"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    # The phone is personal data: staff read it on the petition page, where the view is logged.
    exclude = ["contact_phone", "idempotency_key"]
    inlines = [PetitionEventInline]
    show_full_result_count = False

    @admin.action(description=_("Fixed: let the sweeps take these petitions again"))
    def clear_sweep_failure(self, request: HttpRequest, queryset) -> None:
        scope = scope_for(request.user)
        if not (request.user.is_superuser or scope.sees_all or scope.has_role(Role.DISTRICT_CENTRE)):
            self.message_user(request, _("Only the district centre may do this."), messages.ERROR)
            return
        count = petition_sweep_failure_clear(petition_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(n)s petition goes back to the sweeps.", "%(n)s petitions go back to the sweeps.", count)
            % {"n": count},
        )


@admin.register(PetitionEvent)
class PetitionEventAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "petition__area_path"
    list_display = ["created_at", "petition", "type", "actor_name", "from_status", "to_status"]
    list_filter = ["type"]
    search_fields = ["petition__tracking_no"]
    list_select_related = ["petition", "actor"]
    raw_id_fields = ["petition", "actor"]
    show_full_result_count = False

    @admin.display(description=_("actor"))
    def actor_name(self, event: PetitionEvent) -> str:
        return person_name(event.actor) if event.actor_id else event.actor_label_display


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
