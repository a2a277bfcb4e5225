from django.contrib.auth.views import LogoutView
from django.urls import path

from wangge.accounts import views

urlpatterns = [
    path("login/", views.WanggeLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("inbox/", views.inbox_page, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox_read"),
    path("inbox/<int:pk>/", views.inbox_open, name="inbox_open"),
    path("", views.home, name="home"),
]
