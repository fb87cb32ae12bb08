"""The admin of the records: tags are edited here; buildings, houses, residents and party records
are read here (scoped like the pages, personal data masked) and changed on the record pages, whose
services keep the change history.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from governance.admin import StaffViewMixin
from governance.privacy import mask_name
from governance.scoping import scope_for
from residents.models import Building, House, PartyGroup, PartyHousehold, Resident, Tag
from residents.policy import TAG_ROLES, records_visible_to


class ReadOnlyRecordsAdmin(StaffViewMixin, admin.ModelAdmin):
    """Viewing only, through the records policy."""

    def get_queryset(self, request: HttpRequest):
        return records_visible_to(request.user, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Building)
class BuildingAdmin(ReadOnlyRecordsAdmin):
    list_display = ["code", "name", "address", "units", "floors", "microgrid"]
    search_fields = ["code", "name", "address"]
    list_select_related = ["microgrid"]
    exclude = ["grid", "community", "street"]


@admin.register(House)
class HouseAdmin(ReadOnlyRecordsAdmin):
    list_display = ["address", "doorplate_code", "use", "building", "microgrid"]
    list_filter = ["use"]
    search_fields = ["address", "doorplate_code"]
    list_select_related = ["building", "microgrid"]
    exclude = ["grid", "community", "street"]


@admin.register(Resident)
class ResidentAdmin(ReadOnlyRecordsAdmin):
    """Masked: the record page shows personal data in full, to those allowed, logged."""

    list_display = ["masked_name", "gender", "birth_year", "house", "status", "registration", "living_alone"]
    list_filter = ["status", "registration", "gender", "living_alone"]
    list_select_related = ["house"]
    fields = ["masked_name", "gender", "birth_year", "house", "relation", "registration", "status", "moved_in_on"]
    readonly_fields = ["masked_name", "birth_year"]

    @admin.display(description=_("name"))
    def masked_name(self, obj: Resident) -> str:
        return mask_name(obj.name)

    @admin.display(description=_("birth year"))
    def birth_year(self, obj: Resident) -> str:
        return str(obj.birth_date.year) if obj.birth_date else ""


@admin.register(PartyGroup)
class PartyGroupAdmin(ReadOnlyRecordsAdmin):
    list_display = ["name", "microgrid"]
    list_select_related = ["microgrid"]
    fields = ["name", "microgrid", "buildings"]


@admin.register(PartyHousehold)
class PartyHouseholdAdmin(ReadOnlyRecordsAdmin):
    list_display = ["house", "group", "microgrid"]
    list_select_related = ["house", "group", "microgrid"]
    fields = ["house", "group", "microgrid"]


# Who may add and change tags: administrators (district-wide and any community's) and community
# secretaries (their own community's): the records policy's one rule, as on the tags page.
TAG_EDITORS = TAG_ROLES


@admin.register(Tag)
class TagAdmin(StaffViewMixin, admin.ModelAdmin):
    """Tags as data: district-wide ones (administrators) and those a community adds for itself."""

    list_display = ["name", "code", "community", "kind", "sensitive", "is_active", "sort_order"]
    list_filter = ["kind", "sensitive", "is_active"]
    search_fields = ["name", "code"]
    list_select_related = ["community"]

    def _communities(self, request: HttpRequest) -> list[int]:
        return list(
            request.user.posts.filter(is_active=True, role__in=TAG_EDITORS, area__level=3).values_list(
                "area_id", flat=True
            )
        )

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        scope = scope_for(request.user)
        if scope.sees_all:
            return queryset
        condition = Q(community__isnull=True)
        area_q = scope.area_condition("community__path")
        if area_q is not None:
            condition |= area_q
        # A post below the community level still sees its community's tags.
        for path in scope.area_paths:
            parts = [p for p in path.split("/") if p]
            if len(parts) > 3:
                condition |= Q(community__path="/".join(parts[:3]) + "/")
        return queryset.filter(condition)

    # Only administrators reach the admin (governance/admin_site.py): a secretary's own tags are
    # not edited here any more.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return scope_for(request.user).sees_all

    def has_change_permission(self, request: HttpRequest, obj: Tag | None = None) -> bool:
        return scope_for(request.user).sees_all

    def has_delete_permission(self, request: HttpRequest, obj: Tag | None = None) -> bool:
        return False  # tags in use are history; retire one with "active" off

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "community" and not scope_for(request.user).sees_all:
            kwargs["queryset"] = db_field.related_model.objects.filter(pk__in=self._communities(request))
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Tag | None = None):
        return [] if scope_for(request.user).sees_all else ["kind"]

    def save_model(self, request: HttpRequest, obj: Tag, form, change: bool) -> None:
        if not scope_for(request.user).sees_all:
            if obj.community_id not in self._communities(request):
                raise PermissionDenied
            obj.kind = "manual"
        super().save_model(request, obj, form, change)
