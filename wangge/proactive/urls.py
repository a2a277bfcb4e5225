"""Proactive service pages; mounted with path("", include("wangge.proactive.urls"))."""

from wangge.proactive import views

app_name = "proactive"
urlpatterns = views.urlpatterns
