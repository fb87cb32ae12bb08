from django.urls import path

from residents import finder_views as views

app_name = "finder"

urlpatterns = [
    path("", views.finder, name="search"),
    path("count/", views.finder_count, name="count"),
    path("export/", views.finder_export, name="export"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/save/", views.policy_save, name="policy_save"),
    path("policies/<int:policy_id>/", views.policy_detail, name="policy"),
    path("policies/<int:policy_id>/contact/", views.policy_contact, name="policy_contact"),
    path("policies/<int:policy_id>/export/", views.policy_export, name="policy_export"),
]
