from django.apps import AppConfig


class ProactiveConfig(AppConfig):
    name = "wangge.proactive"
    verbose_name = "主动服务"

    def ready(self) -> None:
        from wangge.proactive import jobs  # noqa: F401 - registers the periodic tick
