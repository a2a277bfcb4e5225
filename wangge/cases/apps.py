from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "wangge.cases"
    verbose_name = "案件办理"

    def ready(self) -> None:
        from wangge.areas.selectors import FIGURES
        from wangge.cases import jobs  # noqa: F401 - registers the periodic ticks
        from wangge.cases.selectors import cases_by_area

        FIGURES.append(cases_by_area)
