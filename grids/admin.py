from django.contrib import admin

from governance.admin import AdministratorWriteMixin, ScopedAdminMixin
from grids.models import Area


@admin.register(Area)
class AreaAdmin(AdministratorWriteMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "households"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["path"]
    list_select_related = ["parent"]
    show_full_result_count = False
