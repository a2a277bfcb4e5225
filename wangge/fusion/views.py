"""Fusion pages: import a department file and watch it land, review the pairs
the model was unsure of, and the data-quality report."""

from __future__ import annotations

import csv
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from wangge.core import exports
from wangge.core.errors import DomainError, NotFound
from wangge.core.masking import Field as MaskField
from wangge.core.masking import shown
from wangge.core.pages import not_found_as_404
from wangge.core.xlsx import stamped_csv
from wangge.fusion import collect, selectors, services
from wangge.fusion.models import Decision
from wangge.fusion.tasks import import_batch
from wangge.registry import selectors as registry_selectors
from wangge.registry import vocab
from wangge.registry.models import RecordKind, Source

IMPORT_ROLES = frozenset({"admin", "district_staff", "street_staff", "community_staff", "department_staff"})


def _may_import(user: object) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in IMPORT_ROLES)


def _sources_for(user: object) -> list[Source]:
    qs = Source.objects.order_by("code")
    if getattr(user, "role", "") == "department_staff" and not getattr(user, "is_superuser", False):
        qs = qs.filter(department_id=getattr(user, "department_id", None) or 0)
    return list(qs)


@login_required
def imports_page(request: HttpRequest) -> HttpResponse:
    if not _may_import(request.user):
        raise Http404("无权导入数据")
    if request.method == "POST":
        return _upload(request)
    return render(request, "fusion/imports.html", {
        "sources": _sources_for(request.user), "kinds": RecordKind.choices,
        "batches": selectors.batches_for(request.user)[:30]})


def _upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    source = next((s for s in _sources_for(request.user) if str(s.pk) == request.POST.get("source")), None)
    kind = request.POST.get("kind", RecordKind.PERSON)
    if upload is None or source is None:
        messages.error(request, "请选择数据来源和要导入的文件")
        return redirect("fusion:imports")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        with path.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        try:
            batch = services.register_upload(request.user, source=source, kind=kind, path=path,
                                             file_name=upload.name or "upload.csv")
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("fusion:imports")
    import_batch.enqueue(batch.pk)
    return redirect("fusion:batch", pk=batch.pk)


@not_found_as_404
@login_required
def batch_page(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.get_batch(request.user, pk)
    template = "fusion/_batch_status.html" if request.headers.get("HX-Request") else "fusion/batch.html"
    return render(request, template, {"batch": batch})


@not_found_as_404
@login_required
def batch_errors(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    batch = selectors.get_batch(request.user, pk)
    path = services.error_file_path(batch)
    if not path.exists():
        raise Http404("该批次没有错误行")
    # The clerk's rows as sent, unmasked: an export of personal data like any other.
    with path.open(encoding="utf-8-sig", newline="") as fh:
        columns = next(csv.reader(fh), [])
    try:
        ticket = exports.prepare(request.user, kind="fusion.batch_errors", params={"batch": batch.pk},
                                 rows=batch.rows_bad, purpose=request.GET.get("purpose", "")[:200]
                                 or "核对并更正导入错误行", fields=columns)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("fusion:batch", pk=batch.pk)
    # The watermark goes last here, not first: this file's header is its first
    # line (fusion's tests read it there). Re-imported as it is, the note line
    # shows up as one bad row.
    return FileResponse(stamped_csv(_chunks(path), ticket.mark, last=True), as_attachment=True,
                        filename=f"导入错误-批次{batch.pk}.csv", content_type="text/csv; charset=utf-8")


def _chunks(path: Path, size: int = 64 * 1024) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(size):
            yield chunk


@login_required
def review_page(request: HttpRequest) -> HttpResponse:
    pairs = selectors.review_queue(request.user)[:100]
    return render(request, "fusion/review.html", {"pairs": pairs})


@not_found_as_404
@login_required
def pair_page(request: HttpRequest, pk: int) -> HttpResponse:
    pair = selectors.get_review_pair(request.user, pk)
    left, right = selectors.review_sides(request.user, pair)
    rows = [(label, lv, rv) for (label, lv), (_, rv) in zip(left.values, right.values, strict=True)]
    return render(request, "fusion/pair.html", {"pair": pair, "left": left, "right": right, "rows": rows})


@not_found_as_404
@login_required
@require_POST
def decide_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        pair = selectors.get_review_pair(request.user, pk)
        services.decide_pair(request.user, pair, request.POST.get("decision", ""), request.POST.get("note", ""))
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("fusion:pair", pk=pk)
    messages.success(request, "已记录：" + dict(Decision.choices)[pair.decision])
    nxt = selectors.review_queue(request.user).first()
    return redirect("fusion:pair", pk=nxt.pk) if nxt else redirect("fusion:review")


@not_found_as_404
@login_required
def quality_page(request: HttpRequest) -> HttpResponse:
    area = request.GET.get("area", "")[:15]
    areas = selectors.quality_by_area(request.user, area)
    return render(request, "fusion/quality.html", {
        "area": area, "summary": selectors.quality_summary(request.user, area), "areas": areas,
        "sources": selectors.quality_by_source(request.user), "labels": selectors.COMPLETENESS,
        "chart": {"labels": [a["name"] for a in areas], "codes": [a["code"] for a in areas],
                  "overall": [a["overall"] for a in areas],
                  "fields": {selectors.COMPLETENESS[f]: [a["fields"][f] for a in areas]
                             for f in selectors.COMPLETENESS}}})


# --- collect once -----------------------------------------------------------


@login_required
def campaigns_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            campaign = collect.create_campaign(
                request.user, name=request.POST.get("name", ""), fields=request.POST.getlist("fields"),
                area_code=request.POST.get("area_code", "").strip(), tag=request.POST.get("tag", ""),
                max_age_days=int(request.POST.get("max_age_days") or 365))
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "过期天数须为整数"))
        else:
            return redirect("fusion:campaign", pk=campaign.pk)
    user = request.user
    return render(request, "fusion/campaigns.html", {
        "campaigns": collect.campaigns_for(user), "fields": collect.COLLECTABLE, "tags": vocab.TAGS,
        "may_create": user.is_superuser or getattr(user, "role", "") in collect.CAMPAIGN_ROLES,
        "default_area": getattr(user, "area_code", "")})


@not_found_as_404
@login_required
def campaign_page(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = collect.get_campaign(request.user, pk)
    done = set(campaign.submissions.values_list("person_id", flat=True))
    people = list(collect.targets(request.user, campaign).select_related("address").order_by("grid_code", "pk")[:200])
    rows = [(row, row.pk in done) for row in registry_selectors.person_rows(request.user, people)]
    return render(request, "fusion/campaign.html", {
        "campaign": campaign, "rows": rows, "progress": collect.campaign_progress(request.user, campaign),
        "labels": [collect.COLLECTABLE[f] for f in campaign.fields]})


@not_found_as_404
@login_required
def campaign_form(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    try:
        campaign = collect.get_campaign(request.user, pk)
        found = collect.targets(request.user, campaign).filter(pk=person_pk).first()
        if found is None:
            raise NotFound("person_not_found", "未找到该人员，或不在您的权限范围内")
        person = found
        if request.method == "POST":
            collect.submit_campaign(request.user, campaign, person, request.POST.dict())
            messages.success(request, "已提交，标准人口已更新")
            return redirect("fusion:campaign", pk=pk)
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    asks = collect.asks_for(request.user, campaign, person)
    row = registry_selectors.person_rows(request.user, [person])[0]
    return render(request, "fusion/campaign_form.html", {"campaign": campaign, "person": row, "asks": asks,
                                                         "residence_types": vocab.RESIDENCE_TYPES})


@not_found_as_404
def self_register_page(request: HttpRequest, code: str, token: str) -> HttpResponse:
    """Public: a resident scans the QR code on their door."""
    address = collect.house_for_token(code, token)
    sent = False
    if request.method == "POST":
        client = hashlib.sha256((request.META.get("REMOTE_ADDR") or "").encode()).hexdigest()
        try:
            collect.submit_self_registration(address, {
                k: request.POST.get(k, "") for k in ("name", "id_number", "phone", "relation", "tags")},
                client=client)
            sent = True
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(request, "fusion/self_register.html", {"address": address, "sent": sent,
                                                         "relations": vocab.RELATIONS})


@login_required
def registrations_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            collect.decide_registration(request.user, int(request.POST.get("pk", 0)),
                                        confirm=request.POST.get("decision") == "confirm")
            messages.success(request, "已处理")
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "参数错误"))
        return redirect("fusion:registrations")
    items = [(r, shown(request.user, MaskField.NAME, r.values.get("name", "")),
              shown(request.user, MaskField.ID_NUMBER, r.values.get("id_number", "")))
             for r in collect.pending_registrations(request.user)[:100]]
    return render(request, "fusion/registrations.html", {"items": items})
