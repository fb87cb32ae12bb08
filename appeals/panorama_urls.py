from django.urls import path

from appeals import panorama_views

app_name = "panorama"
urlpatterns = [
    path("", panorama_views.panorama_page, name="mine"),
    path("<str:code>/", panorama_views.panorama_page, name="area"),
    path("<str:code>/live/", panorama_views.panorama_live, name="live"),
    path("<str:code>/transfer/<str:tracking_no>/", panorama_views.panorama_transfer, name="transfer"),
]
