from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "wangge.registry"
    verbose_name = "实有人口、房屋与单位"
