"""The admin of the petition taxonomy (editable by administrators) and read-only petition records.

Petitions, their events and notifications are never changed here: every change is a transition
service, which keeps the event trail and the deadlines right.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from appeals.models import Category, Notification, Petition, PetitionEvent, TimeLimit
from appeals.privacy import contact_fields_for
from appeals.services.deadlines import limits_cache_clear
from appeals.services.sweeps import petition_sweep_failure_clear
from governance.admin import AdministratorWriteMixin, ScopedAdminMixin, StaffViewMixin
from governance.identity import person_name
from governance.models import AccessReason, Role
from governance.privacy import mask_name, mask_phone, mask_text
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
        return self._is_admin(request)


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


class EventDisplayMixin:
    """How the admin shows an event: the actor by name (Chinese order) or label, the note masked.

    The admin is for looking things up; the petition page is where the handler reads notes in full.
    """

    @admin.display(description=_("actor"))
    def actor_name(self, event: PetitionEvent) -> str:
        return person_name(event.actor) if event.actor_id else event.actor_label_display

    @admin.display(description=_("note"))
    def masked_note(self, event: PetitionEvent) -> str:
        return mask_text(event.note)


class PetitionEventInline(EventDisplayMixin, admin.TabularInline):
    model = PetitionEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "type", "actor_name", "from_status", "to_status", "masked_note"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return True


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


# Shown in the admin's change view: free text always masked, contact fields as the policy says.
ADMIN_CONTACT_FIELDS = ("contact_name", "contact_phone")


@admin.register(Petition)
class PetitionAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Read-only, and masked like the pages: contact details in full only to the handling unit, logged."""

    scope_path_field = "area_path"
    list_display = [
        "tracking_no",
        "masked_title",
        "category",
        "status",
        "tier",
        "handler_area",
        "masked_contact",
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
    fields = [
        "tracking_no",
        "masked_title",
        "channel",
        "status",
        "tier",
        "category",
        "handler_area",
        "handler_department",
        "contact_name_shown",
        "contact_phone_shown",
        "masked_description",
        "masked_address",
        "masked_reply",
        "deadline_at",
        "overdue",
        "supervised",
        "rating",
        "created_at",
        "resolved_at",
        "closed_at",
    ]
    readonly_fields = fields
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

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        petition = super().get_object(request, object_id, from_field)
        if petition is not None:
            # The display methods below get only the object; the policy needs the viewer.
            petition._admin_request = request
        return petition

    def _shown(self, petition: Petition) -> dict[str, str]:
        cached = getattr(petition, "_admin_shown", None)
        if cached is None:
            request = petition._admin_request
            cached = contact_fields_for(
                request.user, petition, ADMIN_CONTACT_FIELDS, request=request, reason=AccessReason.ADMIN_VIEW
            )
            petition._admin_shown = cached
        return cached

    @admin.display(description=_("contact name"))
    def contact_name_shown(self, petition: Petition) -> str:
        return self._shown(petition)["contact_name"]

    @admin.display(description=_("contact phone"))
    def contact_phone_shown(self, petition: Petition) -> str:
        return self._shown(petition)["contact_phone"]

    @admin.display(description=_("contact"))
    def masked_contact(self, petition: Petition) -> str:
        return " ".join(part for part in (mask_name(petition.contact_name), mask_phone(petition.contact_phone)) if part)

    @admin.display(description=_("title"))
    def masked_title(self, petition: Petition) -> str:
        return mask_text(petition.title)

    @admin.display(description=_("description"))
    def masked_description(self, petition: Petition) -> str:
        return mask_text(petition.description)

    @admin.display(description=_("address"))
    def masked_address(self, petition: Petition) -> str:
        return mask_text(petition.address)

    @admin.display(description=_("reply"))
    def masked_reply(self, petition: Petition) -> str:
        return mask_text(petition.reply)


@admin.register(PetitionEvent)
class PetitionEventAdmin(EventDisplayMixin, ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "petition__area_path"
    list_display = ["created_at", "petition", "type", "actor_name", "from_status", "to_status"]
    list_filter = ["type"]
    search_fields = ["petition__tracking_no"]
    list_select_related = ["petition", "actor"]
    fields = ["created_at", "petition", "type", "actor", "actor_label", "from_status", "to_status", "masked_note"]
    readonly_fields = fields
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
        return request.user.is_superuser or scope_for(request.user).sees_all

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)
