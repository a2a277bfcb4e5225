from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "wangge.exchange"
    verbose_name = "数据共享交换"

    def ready(self) -> None:
        from wangge.exchange import jobs  # noqa: F401 - registers the periodic ticks
        from wangge.exchange.disclosures import register_sources

        register_sources()
