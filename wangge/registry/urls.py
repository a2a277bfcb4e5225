from django.urls import path

from wangge.registry import exports, views

app_name = "registry"

urlpatterns = [
    path("people/", views.people_page, name="people"),
    path("people/export.xlsx", exports.people_export, name="people_export"),
    path("people/<int:pk>/", views.person_page, name="person"),
    path("people/<int:pk>/reveal/", views.person_reveal, name="person_reveal"),
    path("people/<int:pk>/access/", views.person_access_page, name="person_access"),
]
