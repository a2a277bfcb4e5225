from django.urls import path

from wangge.core import export_views

app_name = "exports"

urlpatterns = [
    path("exports/", export_views.exports_page, name="list"),
    path("exports/<int:pk>/approve/", export_views.approve_view, name="approve"),
    path("exports/<int:pk>/refuse/", export_views.refuse_view, name="refuse"),
]
