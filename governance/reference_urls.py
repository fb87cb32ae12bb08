"""设置: reference pages for staff (governance/reference_views.py). The categories page lives in
appeals (the taxonomy is its model) and is added to this namespace by governance/urls.py."""

from django.urls import path

from governance import reference_views

app_name = "reference"
urlpatterns = [
    path("", reference_views.index, name="index"),
    path("calendar/", reference_views.calendar, name="calendar"),
    path("departments/", reference_views.departments, name="departments"),
    path("staff/", reference_views.staff, name="staff"),
    path("access-log/", reference_views.access_log, name="access_log"),
]
