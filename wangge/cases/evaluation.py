"""考核评价: how well cases were handled in a period, per department, area or
grid worker, with a composite score and a rank.

Scope: only cases in `visible_cases(user)`; a street sees its street's rows.

Period: [start, end] in local dates (Asia/Shanghai), from start 00:00 to the
end of the end day. Each figure counts by the moment that defines it, so one
case may count as reported in May and closed in June. The figures, as the API,
the page and the workbook show them (DEFINITIONS below carries the same text;
a test keeps the two equal):

    field                | 列名                     | 定义
    ---------------------+--------------------------+------------------------------------------------------
    reports              | 上报数                   | 上报时间在期间内的案件数
    valid                | 有效上报数               | 上报数中，未被不予立案、未作为重复案件合并、也未在立案前撤回或撤销的案件数（按当前状态判断）
    registered           | 立案数                   | 立案时间在期间内的案件数
    dispatched           | 派遣数                   | 派遣时间在期间内的案件数（退回后重新派遣的案件按最后一次派遣计一次）
    due                  | 应办结数                 | 处置时限在期间内的案件数（延期、返工后按现行时限）
    closed               | 结案数                   | 结案时间在期间内的案件数
    closed_on_time       | 按时结案数               | 结案数中，在处置时限前完成处置且未被标记超期的案件数
    on_time_rate         | 按时结案率               | 按时结案数 ÷ 结案数
    overdue              | 超期数                   | 处置时限在期间内、且在处置前已过时限被标记超期的案件数
    rework               | 返工次数                 | 期间内“核查不通过（返工）”的次数
    rework_rate          | 返工率                   | 返工次数 ÷ 期间内有处置反馈的案件数
    returns              | 退回次数                 | 期间内部门退回（非本部门职责）的次数
    mean_handling_hours  | 平均处置时长（工作小时） | 处置时间在期间内的案件，从（最后一次）派遣到（最后一次）处置反馈的工作时长的平均值，按工作日历与工作时段计算
    verified             | 核查数                   | 期间内核查通过的案件数
    verified_on_time     | 按时核查数               | 核查数中，在核查时限前核查的案件数
    verify_on_time_rate  | 按时核查率               | 按时核查数 ÷ 核查数
    rated                | 评价数                   | 结案时间在期间内、且已有满意度评价的案件数
    satisfaction         | 满意度                   | 这些评价（1–5 分）的平均分折算为百分比：1 分为 0%，5 分为 100%
    score                | 综合得分                 | 按时结案率×40、（1−返工率）×20、按时核查率×15、满意度×25 加权，只计本行有数值的指标并按其权重归一，满分 100
    rank                 | 排名                     | 按综合得分从高到低，得分相同者名次相同；无综合得分者不排名

Rates are fractions (0.75 is 75 %); a rate with no denominator is None.

Attribution (ATTRIBUTION below, shown beside the table):

- department: the case's current department (承办部门); a case never
  dispatched is in no department row. A return counts for the department that
  returned it (the return step records it): by then the case belongs to the
  next department, which should not carry the refusal.
- street / community / grid: the first 9 / 12 / 15 digits of the case's
  area_code; a case located only to a district (outside every grid) is in no
  area row.
- worker: grid workers (role grid_worker). Reporting figures (reports, valid,
  registered, dispatched) count the cases they reported; verification figures
  count the verifications they took (the actor of the `verify` step). Handling
  figures measure departments, so a worker row has none of them, and a
  worker's score rests on timely verification alone.

Only objects with at least one figure in the period get a row.

Work: two grouped queries (case timestamps, timeline steps), one for handling
times (two timestamps per handled case; working-time arithmetic needs Python)
and one for names, whatever the number of rows.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from django.db.models import Avg, CharField, Count, F, Q, QuerySet, When
from django.db.models import Case as Choose
from django.db.models.expressions import Combinable
from django.db.models.fields.json import KT
from django.db.models.functions import Substr
from django.http import HttpResponse

from wangge.cases import conf
from wangge.cases.models import Case, CaseEvent, State
from wangge.cases.selectors import visible_cases
from wangge.core import workcal
from wangge.core.errors import InvalidInput
from wangge.core.xlsx import Watermark, download, safe_text, stamp_workbook

By = Literal["department", "street", "community", "grid", "worker"]
BY_NAMES: dict[str, str] = {"department": "部门", "street": "街道", "community": "社区",
                            "grid": "网格", "worker": "网格员"}
AREA_DIGITS = {"street": 9, "community": 12, "grid": 15}
LOCAL = ZoneInfo("Asia/Shanghai")
MAX_DAYS = 366

# Weights of the composite score; rework enters as (1 − rework rate).
SCORE_WEIGHTS: dict[str, float] = {
    "on_time_rate": 40.0,
    "rework_rate": 20.0,
    "verify_on_time_rate": 15.0,
    "satisfaction": 25.0,
}


@dataclass(frozen=True)
class Row:
    """One department, area or grid worker; the fields are the table above."""

    key: str
    name: str
    reports: int = 0
    valid: int = 0
    registered: int = 0
    dispatched: int = 0
    due: int = 0
    closed: int = 0
    closed_on_time: int = 0
    on_time_rate: float | None = None
    overdue: int = 0
    rework: int = 0
    rework_rate: float | None = None
    returns: int = 0
    mean_handling_hours: float | None = None
    verified: int = 0
    verified_on_time: int = 0
    verify_on_time_rate: float | None = None
    rated: int = 0
    satisfaction: float | None = None
    score: float | None = None
    rank: int | None = None


@dataclass(frozen=True)
class Definition:
    field: str
    label: str
    text: str
    # How the workbook shows the value: int, pct (a fraction as %), hours, score, text.
    kind: str = "int"


DEFINITIONS: tuple[Definition, ...] = (
    Definition("reports", "上报数", "上报时间在期间内的案件数"),
    Definition("valid", "有效上报数", "上报数中，未被不予立案、未作为重复案件合并、也未在立案前撤回或撤销的案件数（按当前状态判断）"),
    Definition("registered", "立案数", "立案时间在期间内的案件数"),
    Definition("dispatched", "派遣数", "派遣时间在期间内的案件数（退回后重新派遣的案件按最后一次派遣计一次）"),
    Definition("due", "应办结数", "处置时限在期间内的案件数（延期、返工后按现行时限）"),
    Definition("closed", "结案数", "结案时间在期间内的案件数"),
    Definition("closed_on_time", "按时结案数", "结案数中，在处置时限前完成处置且未被标记超期的案件数"),
    Definition("on_time_rate", "按时结案率", "按时结案数 ÷ 结案数", "pct"),
    Definition("overdue", "超期数", "处置时限在期间内、且在处置前已过时限被标记超期的案件数"),
    Definition("rework", "返工次数", "期间内“核查不通过（返工）”的次数"),
    Definition("rework_rate", "返工率", "返工次数 ÷ 期间内有处置反馈的案件数", "pct"),
    Definition("returns", "退回次数", "期间内部门退回（非本部门职责）的次数"),
    Definition("mean_handling_hours", "平均处置时长（工作小时）",
               "处置时间在期间内的案件，从（最后一次）派遣到（最后一次）处置反馈的工作时长的平均值，"
               "按工作日历与工作时段计算", "hours"),
    Definition("verified", "核查数", "期间内核查通过的案件数"),
    Definition("verified_on_time", "按时核查数", "核查数中，在核查时限前核查的案件数"),
    Definition("verify_on_time_rate", "按时核查率", "按时核查数 ÷ 核查数", "pct"),
    Definition("rated", "评价数", "结案时间在期间内、且已有满意度评价的案件数"),
    Definition("satisfaction", "满意度", "这些评价（1–5 分）的平均分折算为百分比：1 分为 0%，5 分为 100%", "pct"),
    Definition("score", "综合得分",
               "按时结案率×40、（1−返工率）×20、按时核查率×15、满意度×25 加权，"
               "只计本行有数值的指标并按其权重归一，满分 100", "score"),
    Definition("rank", "排名", "按综合得分从高到低，得分相同者名次相同；无综合得分者不排名"),
)

ATTRIBUTION: dict[str, str] = {
    "department": "按案件当前的承办部门统计，从未派遣的案件不计入任何部门；退回次数计入退回案件的部门。",
    "street": "按案件所在区域编码的前 9 位（街道）统计；仅定位到区、不在任何网格内的案件不计入。",
    "community": "按案件所在区域编码的前 12 位（社区）统计；仅定位到区、不在任何网格内的案件不计入。",
    "grid": "按案件所在网格（15 位编码）统计；不在任何网格内的案件不计入。",
    "worker": "按网格员统计：上报、有效上报、立案、派遣计入上报该案件的网格员；核查、按时核查计入核查通过的网格员。"
              "处置类指标考核的是部门，不计入网格员，网格员的综合得分只看按时核查率。",
}

PERIOD_NOTE = "统计期间按北京时间的自然日计算，含开始日与结束日；各项指标按各自的发生时间归入期间。"

_CASE_FIGURES = ("reports", "valid", "registered", "dispatched", "due", "closed", "closed_on_time",
                 "overdue", "rated")
_EVENT_FIGURES = ("rework", "returns", "handled", "verified", "verified_on_time")


# --- the period -------------------------------------------------------------------


def check_period(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput("period_reversed",
                           f"结束日期（{end:%Y-%m-%d}）早于开始日期（{start:%Y-%m-%d}），请检查统计期间",
                           fields={"end": "早于开始日期"})
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise InvalidInput("period_too_long",
                           f"统计期间最长 {MAX_DAYS} 天，所选期间共 {days} 天，请缩短后重试",
                           fields={"end": f"期间超过 {MAX_DAYS} 天"})


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period as instants: [start 00:00, the day after end 00:00) local."""
    check_period(start, end)
    return (datetime.combine(start, time.min, tzinfo=LOCAL),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=LOCAL))


# --- figures ----------------------------------------------------------------------


def evaluate(user: Any, *, start: date, end: date, by: By) -> list[Row]:
    """The rows for `by`, best score first; rows without a score last, by key."""
    if by not in get_args(By):
        raise InvalidInput("invalid_grouping", "统计对象须为 department（部门）、street（街道）、"
                           "community（社区）、grid（网格）或 worker（网格员）", fields={"by": by})
    lo, hi = period_bounds(start, end)
    cases = visible_cases(user)
    figures: dict[str, dict[str, Any]] = defaultdict(dict)
    for item in _case_figures(cases, by, lo, hi):
        figures[item.pop("row_key")].update(item)
    for item in _event_figures(cases, by, lo, hi):
        figures[item.pop("row_key")].update(item)
    hours = _handling_hours(cases, by, lo, hi) if by != "worker" else {}
    keys = [k for k in set(figures) | set(hours) if _keeps(by, k)]
    names = _names(by, keys)
    rows = [_row(key, names.get(key) or key, figures.get(key, {}), hours.get(key)) for key in keys]
    return rank(rows)


def _in(field: str, lo: datetime, hi: datetime) -> Q:
    return Q(**{f"{field}__gte": lo, f"{field}__lt": hi})


def _key(by: str, via: str = "") -> Combinable:
    """The row key of a case, as an expression; `via` reaches the case from a
    related model ("case__")."""
    if by == "department":
        return F(f"{via}department__code")
    if by == "worker":
        return F(f"{via}reporter__username")
    return Substr(f"{via}area_code", 1, AREA_DIGITS[by])


def _keeps(by: str, key: str | None) -> bool:
    # A district-only area_code gives a short prefix; those cases have no area row.
    if not key:
        return False
    return len(key) == AREA_DIGITS[by] if by in AREA_DIGITS else True


def _case_figures(cases: QuerySet[Case], by: str, lo: datetime, hi: datetime
                  ) -> list[dict[str, Any]]:
    reported = _in("reported_at", lo, hi)
    invalid = (Q(state=State.REJECTED) | Q(state=State.CANCELLED, duplicate_of__isnull=False)
               | Q(state=State.CANCELLED, registered_at__isnull=True))
    closed = _in("closed_at", lo, hi) & Q(state=State.CLOSED)
    rated = closed & Q(rating__isnull=False)
    counts: dict[str, Any] = {
        "reports": Count("pk", filter=reported),
        "valid": Count("pk", filter=reported & ~invalid),
        "registered": Count("pk", filter=_in("registered_at", lo, hi)),
        "dispatched": Count("pk", filter=_in("dispatched_at", lo, hi)),
    }
    any_in = reported | _in("registered_at", lo, hi) | _in("dispatched_at", lo, hi)
    if by == "worker":
        cases = cases.filter(reporter__role="grid_worker")
    else:
        counts |= {
            "due": Count("pk", filter=_in("handle_due", lo, hi)),
            "closed": Count("pk", filter=closed),
            "closed_on_time": Count("pk", filter=closed & Q(closed_on_time=True)),
            "overdue": Count("pk", filter=_in("overdue_at", lo, hi) & Q(overdue=True)),
            "rated": Count("pk", filter=rated),
            "mean_rating": Avg("rating", filter=rated),
        }
        any_in |= _in("handle_due", lo, hi) | _in("closed_at", lo, hi) | _in("overdue_at", lo, hi)
    # Annotation names must not shadow Case fields (overdue, closed_on_time …).
    qs = (cases.filter(any_in).annotate(row_key=_key(by)).values("row_key")
          .annotate(**{f"n_{name}": agg for name, agg in counts.items()}).order_by())
    return [{k.removeprefix("n_"): v for k, v in item.items()} for item in qs]


def _event_figures(cases: QuerySet[Case], by: str, lo: datetime, hi: datetime
                   ) -> list[dict[str, Any]]:
    events = CaseEvent.objects.filter(_in("at", lo, hi), case__in=cases.values("pk"))
    key: Combinable
    if by == "worker":
        events = events.filter(action="verify", actor__role="grid_worker")
        key = F("actor__username")
    else:
        events = events.filter(action__in=("rework", "return", "handle", "verify"))
        key = _key(by, "case__")
        if by == "department":
            key = Choose(When(action="return", then=KT("data__department")), default=key,
                         output_field=CharField())
    verify = Q(action="verify")
    qs = (events.annotate(row_key=key).values("row_key").annotate(
        n_rework=Count("pk", filter=Q(action="rework")),
        n_returns=Count("pk", filter=Q(action="return")),
        n_handled=Count("case", filter=Q(action="handle"), distinct=True),
        n_verified=Count("case", filter=verify, distinct=True),
        n_verified_on_time=Count("case", filter=verify & Q(case__verified_on_time=True),
                                 distinct=True),
    ).order_by())
    return [{k.removeprefix("n_"): v for k, v in item.items()} for item in qs]


def _handling_hours(cases: QuerySet[Case], by: str, lo: datetime, hi: datetime
                    ) -> dict[str, float]:
    """Mean working hours from the last dispatch to the last handling, per key,
    over the cases handled in the period."""
    working = conf.working_hours()
    total: dict[str, float] = defaultdict(float)
    n: dict[str, int] = defaultdict(int)
    rows = (cases.filter(_in("handled_at", lo, hi), dispatched_at__isnull=False)
            .annotate(row_key=_key(by)).values_list("row_key", "dispatched_at", "handled_at")
            .order_by())
    for key, dispatched_at, handled_at in rows.iterator(chunk_size=5000):
        if not key or dispatched_at is None or handled_at is None:
            continue
        seconds = workcal.working_seconds_between(
            dispatched_at.astimezone(LOCAL), handled_at.astimezone(LOCAL), working)
        total[key] += max(seconds, 0.0)
        n[key] += 1
    return {key: round(total[key] / 3600 / n[key], 2) for key in n}


def _names(by: str, keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    if by == "department":
        from wangge.accounts.models import Department

        return dict(Department.objects.filter(code__in=keys).values_list("code", "name"))
    if by == "worker":
        from wangge.accounts.models import User

        return {u: d or u for u, d in User.objects.filter(username__in=keys)
                .values_list("username", "display_name")}
    from wangge.areas.models import BASE_LAYER, Area

    return dict(Area.objects.filter(layer_id=BASE_LAYER, code__in=keys).values_list("code", "name"))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(key: str, name: str, f: dict[str, Any], hours: float | None) -> Row:
    n = {name_: int(f.get(name_) or 0) for name_ in (*_CASE_FIGURES, *_EVENT_FIGURES)}
    mean_rating = f.get("mean_rating")
    satisfaction = (round((float(mean_rating) - 1) / 4, 4)
                    if mean_rating is not None and n["rated"] else None)
    return Row(
        key=key, name=name, reports=n["reports"], valid=n["valid"], registered=n["registered"],
        dispatched=n["dispatched"], due=n["due"], closed=n["closed"],
        closed_on_time=n["closed_on_time"], on_time_rate=_ratio(n["closed_on_time"], n["closed"]),
        overdue=n["overdue"], rework=n["rework"], rework_rate=_ratio(n["rework"], n["handled"]),
        returns=n["returns"], mean_handling_hours=hours, verified=n["verified"],
        verified_on_time=n["verified_on_time"],
        verify_on_time_rate=_ratio(n["verified_on_time"], n["verified"]), rated=n["rated"],
        satisfaction=satisfaction,
    )


# --- score and rank ---------------------------------------------------------------


def score_of(row: Row) -> float | None:
    """The weighted mean of the row's rates, 0–100, over the rates it has."""
    values: dict[str, float | None] = {
        "on_time_rate": row.on_time_rate,
        # More rework steps than handled cases is possible; it scores 0, not less.
        "rework_rate": None if row.rework_rate is None else 1 - min(row.rework_rate, 1.0),
        "verify_on_time_rate": row.verify_on_time_rate,
        "satisfaction": row.satisfaction,
    }
    present = {k: v for k, v in values.items() if v is not None}
    weight = sum(SCORE_WEIGHTS[k] for k in present)
    if not weight:
        return None
    return round(100 * sum(SCORE_WEIGHTS[k] * v for k, v in present.items()) / weight, 1)


def rank(rows: list[Row]) -> list[Row]:
    """Score and rank the rows (equal scores share a rank: 1, 2, 2, 4)."""
    scored = [replace(r, score=score_of(r), rank=None) for r in rows]
    ordered = sorted(scored, key=lambda r: (r.score is None, -(r.score or 0.0), r.key))
    out: list[Row] = []
    for i, r in enumerate(ordered):
        if r.score is None:
            out.append(r)
        elif out and out[-1].score == r.score:
            out.append(replace(r, rank=out[-1].rank))
        else:
            out.append(replace(r, rank=i + 1))
    return out


# --- the workbook -----------------------------------------------------------------

_FORMATS = {"pct": "0.0%", "hours": "0.00", "score": "0.0", "int": "0"}
def title_for(by: str) -> str:
    return f"案件办理考核评价（按{BY_NAMES.get(by, by)}）"


def file_names(by: str, start: date, end: date) -> tuple[str, str]:
    """The download's name in Chinese, and an ASCII one for old clients."""
    span = f"{start:%Y%m%d}-{end:%Y%m%d}"
    return f"考核评价_按{BY_NAMES.get(by, by)}_{span}.xlsx", f"evaluation_{by}_{span}.xlsx"


def to_xlsx(rows: list[Row], *, title: str, start: date, end: date, by: str,
            watermark: Watermark | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    columns: list[tuple[str, str, str]] = [
        ("rank", "排名", "int"), ("key", "编码" if by != "worker" else "账号", "text"),
        ("name", BY_NAMES.get(by, "名称"), "text"),
        *((d.field, d.label, d.kind) for d in DEFINITIONS if d.field != "rank"),
    ]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "考核评价"
    ws.append([safe_text(title)])
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws.append([safe_text(f"统计期间：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}（北京时间，含首尾两日）"
                         f"　统计对象：按{BY_NAMES.get(by, by)}　指标定义见“指标说明”工作表")])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(columns))
    header = 3
    ws.append([label for _, label, _ in columns])
    for col in range(1, len(columns) + 1):
        cell = ws.cell(row=header, column=col)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for r in rows:
        values = [getattr(r, field) for field, _, _ in columns]
        ws.append([safe_text(v) if isinstance(v, str) else v for v in values])
        line = ws.max_row
        for col, (_, _, kind) in enumerate(columns, start=1):
            if kind in _FORMATS:
                ws.cell(row=line, column=col).number_format = _FORMATS[kind]
    for col, (field, label, _) in enumerate(columns, start=1):
        width = 24 if field == "name" else 18 if field == "key" else max(8, min(len(label) * 2 + 2, 16))
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=header + 1, column=4)

    notes = wb.create_sheet("指标说明")
    notes.append(["指标", "字段", "定义"])
    for d in DEFINITIONS:
        notes.append([d.label, d.field, d.text])
    notes.append([])
    notes.append(["统计期间", "", PERIOD_NOTE])
    notes.append(["统计对象", by, ATTRIBUTION.get(by, "")])
    notes.append(["说明", "", "各比率以百分比显示；分母为 0 时留空。只列出期间内有数据的对象。"])
    notes.append([])
    notes.append(["综合得分权重", "", ""])
    labels = {d.field: d.label for d in DEFINITIONS}
    for field, weight in SCORE_WEIGHTS.items():
        label = "（1−返工率）" if field == "rework_rate" else labels[field]
        notes.append([label, field, weight])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    notes.column_dimensions["A"].width = 26
    notes.column_dimensions["B"].width = 22
    notes.column_dimensions["C"].width = 90
    for line in notes.iter_rows(min_row=2, min_col=3, max_col=3):
        line[0].alignment = Alignment(wrap_text=True, vertical="top")

    wb.properties.creator = "wangge"
    wb.properties.title = safe_text(title)
    if watermark is not None:
        stamp_workbook(wb, watermark)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_download(rows: list[Row], *, start: date, end: date, by: str, user: Any,
                  purpose: str = "") -> HttpResponse:
    """The workbook as a download, for the page and the API alike; through
    core.exports (limit, record, watermark), so it may raise its DomainErrors."""
    from wangge.core import exports

    ticket = exports.prepare(
        user, kind="cases.evaluation", params={"start": start, "end": end, "by": by}, rows=len(rows),
        purpose=purpose or "案件办理考核评价",
        fields=["rank", "key", "name", *(d.field for d in DEFINITIONS if d.field != "rank")])
    content = to_xlsx(rows, title=title_for(by), start=start, end=end, by=by, watermark=ticket.mark)
    name, fallback = file_names(by, start, end)
    return download(content, name=name, fallback=fallback)
