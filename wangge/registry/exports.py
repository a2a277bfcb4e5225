"""The people list as a workbook (/people/export.xlsx): the list page's filters
and scope, masked, watermarked, and through core.exports like every export.

A file leaves the platform's scoping and masking for good, so it is masked
at least as strictly as the list, and more where the list trusts the reader:
ID numbers, phones and sensitive groups (graded sensitive or core) are masked
for every role. The full value stays one audited reveal away on the person's page.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from wangge.core import exports
from wangge.core.errors import DomainError
from wangge.core.masking import Field, mask
from wangge.core.xlsx import Watermark, download, safe_text, stamp_workbook
from wangge.registry import selectors, vocab
from wangge.registry.models import Person

KIND = "registry.people"
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "姓名"), ("id_number", "身份证号"), ("gender", "性别"), ("age", "年龄"),
    ("phone", "电话"), ("address", "住址"), ("grid_code", "网格"), ("tags", "人群"),
)
CHUNK = 1000
_SENSITIVE_LABELS = frozenset(vocab.TAGS.get(t, t) for t in vocab.SENSITIVE_TAGS)


def people_workbook(user: Any, people: list[Person], mark: Watermark) -> bytes:
    """The rows as the list shows them to `user`, with the stricter file masking;
    the watermark as the first row and on every page (core.xlsx)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "实有人口"
    ws.append([str(mark)])
    ws.cell(row=1, column=1).font = Font(italic=True, color="888888")
    ws.append([label for _, label in COLUMNS])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for start in range(0, len(people), CHUNK):
        chunk = people[start:start + CHUNK]
        for person, row in zip(chunk, selectors.person_rows(user, chunk), strict=True):
            tags = sorted({"特殊人群" if label in _SENSITIVE_LABELS else label for label in row.tags})
            ws.append([safe_text(row.name), mask(Field.ID_NUMBER, person.id_number or ""),
                       row.gender, row.age,
                       mask(Field.PHONE, person.phones[0] if person.phones else ""),
                       safe_text(row.address), row.grid_code, safe_text("、".join(tags))])
    ws.freeze_panes = "B3"
    for letter, width in zip("ABCDEFGH", (10, 22, 6, 6, 16, 40, 18, 24), strict=True):
        ws.column_dimensions[letter].width = width
    stamp_workbook(wb, mark)
    wb.properties.title = "实有人口"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_people(user: Any, *, q: str = "", grid: str = "", tag: str = "",
                  purpose: str = "") -> tuple[bytes, exports.ExportTicket]:
    """The workbook of the people `user` finds with these filters. Raises what
    core.exports.prepare raises (no purpose; above the limit without approval)
    before any row is read beyond their ids."""
    people_qs = selectors.search_people(user, q, grid=grid, tag=tag)
    ids = list(people_qs.values_list("pk", flat=True))
    ticket = exports.prepare(user, kind=KIND, params={"q": q, "grid": grid, "tag": tag},
                             rows=len(ids), purpose=purpose, fields=[f for f, _ in COLUMNS],
                             subjects=ids)
    # Read by the recorded ids: the file holds no one the access reports miss.
    people = [p for start in range(0, len(ids), CHUNK)
              for p in people_qs.filter(pk__in=ids[start:start + CHUNK]).select_related("address")]
    return people_workbook(user, people, ticket.mark), ticket


@login_required
def people_export(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:50]
    grid = request.GET.get("grid", "")[:15]
    tag = request.GET.get("tag", "")[:32]
    purpose = request.GET.get("purpose", "")[:200]
    try:
        content, ticket = export_people(request.user, q=q, grid=grid, tag=tag, purpose=purpose)
    except DomainError as exc:
        messages.error(request, exc.message)
        back = {k: v for k, v in {"q": q, "grid": grid, "tag": tag}.items() if v}
        return redirect(reverse("registry:people") + ("?" + urlencode(back) if back else ""))
    day = timezone.localdate(ticket.log.at)
    return download(content, name=f"实有人口_{day:%Y%m%d}_{ticket.id}.xlsx",
                    fallback=f"people_{day:%Y%m%d}_{ticket.id}.xlsx")
