"""People pages: the scoped, masked list and one person's golden record with
where each value came from."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from wangge.core.access_sources import channel_label
from wangge.core.errors import DomainError, NotFound
from wangge.core.masking import Field, needs_purpose
from wangge.core.pages import not_found_as_404
from wangge.registry import selectors, vocab

PURPOSES = ("走访服务", "身份核实", "案件办理", "数据核对", "疫情防控")
FIELD_LABELS = {Field.ID_NUMBER.value: _("身份证号"), Field.PHONE.value: _("电话"),
                Field.SENSITIVE_TAG.value: _("特殊人群标签")}


@login_required
def people_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:50]
    tag = request.GET.get("tag", "")
    people = selectors.search_people(request.user, q, grid=request.GET.get("grid", "")[:15], tag=tag)
    page = Paginator(people.select_related("address"), selectors.PAGE).get_page(request.GET.get("page"))
    return render(request, "registry/people.html", {
        "q": q, "tag": tag, "tags": vocab.TAGS, "page": page,
        "rows": selectors.person_rows(request.user, list(page.object_list))})


def _person_context(request: HttpRequest, pk: int, purpose: str = "") -> dict[str, Any]:
    detail = selectors.get_person(request.user, pk, purpose=purpose)
    fields = [(f.value, FIELD_LABELS[f.value]) for f in selectors.REVEALABLE
              if needs_purpose(request.user, f)]
    return {"p": detail, "pk": pk, "purpose": purpose, "purposes": PURPOSES,
            "reveal_fields": fields, "can_reveal": bool(fields)}


@not_found_as_404
@login_required
def person_page(request: HttpRequest, pk: int) -> HttpResponse:
    # ?purpose= reveals every field the role may see with a reason (too short a
    # purpose reveals nothing, see masking.visible); the read is audited.
    purpose = request.GET.get("purpose", "")[:50]
    return render(request, "registry/person.html", _person_context(request, pk, purpose))


@not_found_as_404
@login_required
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """One field in full for a stated reason (selectors.reveal_for). htmx gets
    the result block; a plain form post gets the whole page with it."""
    field = request.POST.get("field", "")
    reason = request.POST.get("reason", "")[:200]
    result: dict[str, Any] = {"field": field, "label": FIELD_LABELS.get(field, field), "values": [],
                              "error": ""}
    status = 200
    try:
        revealed = selectors.reveal_for(request.user, pk, field=field, reason=reason)
        result["values"] = revealed.values
    except NotFound:
        raise
    except DomainError as exc:
        result["error"], status = exc.message, exc.status
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx answers; the refusal is shown in place.
        return render(request, "registry/_reveal_result.html", {"reveal": result})
    # Without htmx the whole page comes back, and showing it is itself an
    # audited read of the person.
    return render(request, "registry/person.html", {**_person_context(request, pk), "reveal": result},
                  status=status)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@not_found_as_404
@login_required
def person_access_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Who read or received this person's data (the right to know)."""
    start, end = _day(request.GET.get("from", "")), _day(request.GET.get("to", ""))
    zone = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=zone) if start else None
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone) if end else None
    rows = selectors.access_report_for(request.user, pk, since=since, until=until)
    return render(request, "registry/person_access.html", {
        "pk": pk, "name": selectors.person_name_for(request.user, pk),
        "rows": [{"a": a, "label": channel_label(a.channel)} for a in rows],
        "start": start.isoformat() if start else "", "end": end.isoformat() if end else ""})
