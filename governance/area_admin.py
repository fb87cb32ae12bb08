from django.contrib import admin

from governance.admin import AdministratorWriteMixin, ScopedAdminMixin
from governance.scoping import scope_for
from grids.models import Area, BoundaryChange


@admin.register(Area)
class AreaAdmin(AdministratorWriteMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "households"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["path"]
    list_select_related = ["parent"]
    show_full_result_count = False


@admin.register(BoundaryChange)
class BoundaryChangeAdmin(admin.ModelAdmin):
    """The audit of boundary imports: read-only for everyone."""

    list_display = ["at", "actor", "source", "revision"]
    readonly_fields = ["at", "actor", "source", "revision", "created_codes", "updated_codes"]

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or scope_for(request.user).sees_all

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
