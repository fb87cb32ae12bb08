from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.report_index, name="index"),
    path("area/<str:code>/", views.area_reports, name="area_reports"),
    path("area/<str:code>/generate/", views.report_generate, name="generate"),
    path("area/<str:code>/<str:month>/", views.area_month, name="area_month"),
    path("<int:report_id>/", views.report_detail, name="detail"),
    path("<int:report_id>/progress/", views.report_progress, name="progress"),
    path("<int:report_id>/publish/", views.report_publish_view, name="publish"),
    path("<int:report_id>/report.pdf", views.report_pdf_download, name="pdf"),
    path("<int:report_id>/report.xlsx", views.report_xlsx_download, name="xlsx"),
]
