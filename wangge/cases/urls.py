"""Case pages: the staff's (views.py) and the residents' and grid workers'
phone pages (public_views.py), each listing its own routes."""

from wangge.cases import public_views, views

app_name = "cases"
urlpatterns = [*views.urlpatterns, *public_views.urlpatterns]
