"""The grid worker's phone pages (/m/…) and the overseers' pages
(/workforce/…); views.py lists the routes."""

from wangge.workforce import views

app_name = "workforce"
urlpatterns = [*views.urlpatterns]
