"""Staff pages: the rules with their last run and a button to run one, the
water imports (upload, and each import's bad rows and unplaced accounts),
and the water flags. Reads go through selectors, writes through services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_POST

from wangge.core.errors import DomainError
from wangge.core.pages import not_found_as_404
from wangge.proactive import rules, selectors, services
from wangge.proactive.models import FlagKind

PAGE_SIZE = 30


def _staff_only(request: HttpRequest) -> None:
    if not selectors.is_staff(request.user):
        raise Http404("无权查看主动服务")


@login_required
def rules_page(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    last = selectors.last_runs(request.user)
    open_tasks = selectors.open_tasks_by_rule(request.user)
    rows = []
    for r in selectors.rules_for(request.user):
        labels = {p.name: p.label for p in rules.CATALOGUE[r.code].params}
        params = [(labels[name], name, value) for name, value in selectors.rule_params(r).items()]
        rows.append({"rule": r, "params": params, "last": last.get(r.code), "open": open_tasks.get(r.code, 0)})
    return render(request, "proactive/rules.html", {"rows": rows, "can_run": services.may_run(request.user)})


@login_required
@require_POST
def run_rule_page(request: HttpRequest, code: str) -> HttpResponse:
    try:
        run = services.run_rule_now(by=request.user, code=code)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("proactive:rules")
    if run.error:
        messages.error(request, f"“{run.rule.name}”运行出错：{run.error}")
    else:
        messages.success(request, f"已运行“{run.rule.name}”：命中 {run.matched}，新建任务 {run.opened}，"
                                  f"已有待办 {run.kept}，撤销 {run.closed}")
    return redirect("proactive:rules")


@login_required
def water_page(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择要导入的抄表文件")
            return redirect("proactive:water")
        try:
            imp = services.import_water_csv(by=request.user, file_name=upload.name or "water.csv",
                                            data=upload.read())
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("proactive:water")
        return redirect("proactive:water_import", pk=imp.pk)
    return render(request, "proactive/water.html", {
        "imports": selectors.imports_for(request.user)[:30], "can_import": services.may_import(request.user),
        "unmatched": selectors.accounts_for(request.user, unmatched=True).count()})


@not_found_as_404
@login_required
def water_import_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "proactive/water_import.html", {"imp": selectors.import_for(request.user, pk)})


@login_required
def flags_page(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in FlagKind.values else ""
    flags = selectors.flags_for(request.user, kind=kind or None)
    page = Paginator(flags, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "proactive/flags.html", {
        "page": page, "kind": kind, "kinds": FlagKind.choices, "query": f"kind={kind}" if kind else ""})


urlpatterns: list[URLPattern] = [
    path("proactive/rules/", rules_page, name="rules"),
    path("proactive/rules/<str:code>/run/", run_rule_page, name="run_rule"),
    path("proactive/water/", water_page, name="water"),
    path("proactive/water/imports/<int:pk>/", water_import_page, name="water_import"),
    path("proactive/water/flags/", flags_page, name="flags"),
]
