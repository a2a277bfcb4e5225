"""People pages: the scoped, masked list and one person's golden record with
where each value came from."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wangge.core.masking import Field, needs_purpose
from wangge.core.pages import not_found_as_404
from wangge.registry import selectors, vocab

PURPOSES = ("走访服务", "身份核实", "案件办理", "数据核对", "疫情防控")


@login_required
def people_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:50]
    tag = request.GET.get("tag", "")
    people = selectors.search_people(request.user, q, grid=request.GET.get("grid", "")[:15], tag=tag)
    page = Paginator(people.select_related("address"), selectors.PAGE).get_page(request.GET.get("page"))
    return render(request, "registry/people.html", {
        "q": q, "tag": tag, "tags": vocab.TAGS, "page": page,
        "rows": selectors.person_rows(request.user, list(page.object_list))})


@not_found_as_404
@login_required
def person_page(request: HttpRequest, pk: int) -> HttpResponse:
    purpose = request.GET.get("purpose", "")[:50]
    detail = selectors.get_person(request.user, pk, purpose=purpose)
    return render(request, "registry/person.html", {
        "p": detail, "purpose": purpose, "purposes": PURPOSES,
        "can_reveal": any(needs_purpose(request.user, f) for f in (Field.ID_NUMBER, Field.PHONE))})
