from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from appeals import reference_views as category_views
from appeals import workbench_views
from governance import reference_urls, views

urlpatterns = [
    # The staff workbench is the home page (appeals: it counts petitions); visitors get the landing.
    path("", workbench_views.home, name="home"),
    path("workbench/points.geojson", workbench_views.map_points, name="workbench-points"),
    path("workbench/assign/", workbench_views.assign_parts, name="workbench-assign"),
    path("health/", views.health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", views.account, name="account"),
    path("accounts/logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("areas/", include("governance.area_urls")),
    # 设置: reference pages for staff (the admin is for administrators only); the categories page
    # is appeals' (the taxonomy is its model) and joins the section's namespace here.
    path(
        "settings/",
        include(
            (
                [
                    *reference_urls.urlpatterns,
                    path("categories/", category_views.categories, name="categories"),
                    path("categories/<str:code>/", category_views.category_detail, name="category"),
                ],
                "reference",
            )
        ),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("governance.apis")),
    path("api/v1/", include("appeals.apis")),
    path("api/v1/", include("appeals.hotline_api")),
    path("api/v1/", include("analytics.apis")),
    path("open311/v2/", include("appeals.open311")),
    path("petitions/", include("appeals.urls")),
    path("notifications/", include("appeals.inbox_urls")),
    path("panorama/", include("appeals.panorama_urls")),
    path("patrol/", include("appeals.patrol_urls")),
    path("residents/finder/", include("residents.finder_urls")),
    path("records/", include("residents.urls")),
    path("residents/imports/", include("residents.import_urls")),
    path("reports/", include("analytics.urls")),
    path("hotline/", include("appeals.hotline_views")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file (no inline script); its template keeps an inline
    # <style>, so this one page allows inline styles.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]

handler404 = "governance.views.page_not_found"
