"""Exchange pages; mounted with path("", include("wangge.exchange.urls"))."""

from wangge.exchange import views

app_name = "exchange"
urlpatterns = views.urlpatterns
