from django.urls import path

from appeals import inbox_views

app_name = "notifications"
urlpatterns = [
    path("", inbox_views.notification_list, name="list"),
    path("badge/", inbox_views.notification_badge, name="badge"),
    path("read-all/", inbox_views.notification_read_all, name="read_all"),
    path("<int:notification_id>/open/", inbox_views.notification_open, name="open"),
]
