from django.urls import path

from residents import import_views as views

app_name = "imports"

urlpatterns = [
    path("", views.import_upload, name="upload"),
    path("<int:import_id>/", views.import_detail, name="detail"),
    path("<int:import_id>/mapping/", views.import_mapping, name="mapping"),
    path("<int:import_id>/progress/", views.import_progress, name="progress"),
    path("<int:import_id>/import/", views.import_start, name="start"),
]
