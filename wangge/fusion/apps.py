from django.apps import AppConfig


class FusionConfig(AppConfig):
    name = "wangge.fusion"
    verbose_name = "数据融合"

    def ready(self) -> None:
        from wangge.areas.selectors import FIGURES
        from wangge.fusion.selectors import completeness_by_area

        FIGURES.append(completeness_by_area)
