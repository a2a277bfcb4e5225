from django.urls import path

from wangge.registry import views

app_name = "registry"

urlpatterns = [
    path("people/", views.people_page, name="people"),
    path("people/<int:pk>/", views.person_page, name="person"),
]
