from django.urls import path

from appeals import patrol_views

app_name = "patrol"
urlpatterns = [
    path("", patrol_views.patrol_home, name="home"),
    path("start/", patrol_views.patrol_start, name="start"),
    path("<int:patrol_id>/note/", patrol_views.patrol_note, name="note"),
    path("<int:patrol_id>/report/", patrol_views.patrol_report, name="report"),
    path("<int:patrol_id>/close/", patrol_views.patrol_close, name="close"),
    path("log/", patrol_views.patrol_log, name="log"),
    path("log/<int:patrol_id>/", patrol_views.patrol_detail, name="detail"),
    path("manifest.webmanifest", patrol_views.patrol_manifest, name="manifest"),
    path("sw.js", patrol_views.patrol_service_worker, name="sw"),
]
