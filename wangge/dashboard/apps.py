from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "wangge.dashboard"
    verbose_name = "指挥中心"
