from django.urls import path

from governance import area_views as views

app_name = "grids"
urlpatterns = [
    path("<str:code>/", views.area_detail, name="area_detail"),
    path("<str:code>/boundary.geojson", views.area_children_geojson, name="area_children_geojson"),
]
