from django.urls import path

from wangge.exchange import gateway_views

urlpatterns = [
    path("", gateway_views.serve),
    path("<path:rest>", gateway_views.serve),
]
