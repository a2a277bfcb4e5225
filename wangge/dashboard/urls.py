from django.urls import path

from wangge.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("areas/", views.areas_page, name="areas"),
    path("addresses/", views.addresses_page, name="addresses"),
    path("welcome/", views.welcome, name="welcome"),
]
