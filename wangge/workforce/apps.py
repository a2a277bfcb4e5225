from django.apps import AppConfig


class WorkforceConfig(AppConfig):
    name = "wangge.workforce"
    verbose_name = "网格员与任务"

    def ready(self) -> None:
        from wangge.workforce import jobs, receivers  # noqa: F401 - registers ticks and signal receivers
