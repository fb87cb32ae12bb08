from django.urls import path

from appeals import views

app_name = "appeals"
urlpatterns = [
    path("", views.petition_list, name="list"),
    path("new/", views.petition_new, name="new"),
    path("new/done/", views.petition_submitted, name="submitted"),
    path("track/", views.petition_track, name="track"),
    path("t/<str:token>/", views.petition_track_token, name="track_token"),
    path("track/<str:tracking_no>/", views.petition_track_status, name="track_status"),
    path("track/<str:tracking_no>/rate/", views.petition_track_rate, name="track_rate"),
    path("track/<str:tracking_no>/reopen/", views.petition_track_reopen, name="track_reopen"),
    path("mine/", views.petition_mine, name="mine"),
    path("map/", views.petition_map, name="map"),
    path("export.xlsx", views.petition_export, name="export"),
    path("areas/", views.petition_area_picker, name="area_picker"),
    path("bulk-accept/", views.petition_bulk_accept, name="bulk_accept"),
    path("sweep-failures/clear/", views.petition_sweep_clear, name="sweep_clear"),
    path("reply-templates/", views.reply_templates, name="reply_templates"),
    path("reply-templates/<int:template_id>/", views.reply_template_edit, name="reply_template_edit"),
    path("<str:tracking_no>/", views.petition_detail, name="detail"),
    path("<str:tracking_no>/act/<str:action>/", views.petition_act, name="act"),
    path("<str:tracking_no>/notes/", views.petition_note, name="note_add"),
    path("<str:tracking_no>/photos/<int:photo_id>/", views.petition_photo, name="photo"),
]
