from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wangge.core"
    verbose_name = "核心"

    def ready(self) -> None:
        from wangge.core import notify  # noqa: F401 - registers the notify.deliver_pending tick
