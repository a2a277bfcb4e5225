from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wangge.core"
    verbose_name = "核心"

    def ready(self) -> None:
        # notify and jobs register core's periodic ticks on import; export_access
        # registers the core.exports access source; the audit log's source is
        # registered here.
        from wangge.core import access_sources, export_access, jobs, notify  # noqa: F401

        access_sources.register()
