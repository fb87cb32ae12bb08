from django.urls import path

from residents import views

app_name = "residents"
urlpatterns = [
    path("", views.records_search, name="search"),
    path("buildings/new/", views.building_new, name="building_new"),
    path("buildings/<int:building_id>/", views.building_detail, name="building"),
    path("buildings/<int:building_id>/edit/", views.building_edit, name="building_edit"),
    path("houses/new/", views.house_new, name="house_new"),
    path("houses/<int:house_id>/", views.house_detail, name="house"),
    path("houses/<int:house_id>/edit/", views.house_edit, name="house_edit"),
    path("houses/<int:house_id>/residents/new/", views.resident_new, name="resident_new"),
    path("people/<int:resident_id>/", views.resident_detail, name="resident"),
    path("people/<int:resident_id>/edit/", views.resident_edit, name="resident_edit"),
    path("people/<int:resident_id>/move/", views.resident_move, name="resident_move"),
    path("people/<int:resident_id>/leave/", views.resident_leave, name="resident_leave"),
    path("people/<int:resident_id>/tags/", views.resident_tags, name="resident_tags"),
    path("tags/", views.tags, name="tags"),
    path("party/", views.party, name="party"),
    path("tags/<int:tag_id>/active/", views.tag_active, name="tag_active"),
]
