"""考核评价, checked against figures counted by hand on a month of cases built
through the real services (see `june`)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import override_settings

from wangge.cases import deadlines, evaluation
from wangge.cases.evaluation import Row, evaluate, rank, score_of, to_xlsx
from wangge.cases.models import Case
from wangge.cases.services import StepInput, take_step
from wangge.core.errors import InvalidInput
from wangge.core.xlsx import XLSX_TYPE
from wangge.testing import city
from wangge.testing.cases import make_case

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
JUNE = {"start": date(2025, 6, 1), "end": date(2025, 6, 30)}
URL = "/api/v1/cases/evaluation"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=TZ)


def point_a(i: int) -> dict[str, float]:
    # Apart by about 870 m, so no report is offered as another's duplicate.
    return {"lon": 117.305 + 0.01 * i, "lat": 39.025}


def step(case: Case, by: Any, name: str, when: datetime, **given: Any) -> Case:
    return take_step(case_id=case.pk, by=by, step=name, given=StepInput(**given), at=when)


@dataclass
class June:
    c1: Case
    c2: Case
    c3: Case
    c4: Case
    c5: Case
    c6: Case
    c7: Case
    c8: Case
    c9: Case
    c10: Case


@pytest.fixture
def june(worker_a: Any, street_admin: Any, outsider: Any, viewer: Any, chengguan: Any,
         shuiwu: Any) -> June:
    """Working hours 09:00–12:00 and 13:30–17:30; 31 May – 2 June 2025 is the
    Dragon Boat holiday. 暴露垃圾 (normal): 3 working days to handle, 1 to verify.

    c1  grid A, 3 Jun 09:00 → 城管; handled 4 Jun 10:00; verified 4 Jun 14:00
        (closes it); rated 5.                      on time; 8 working hours
    c2  grid A, 3 Jun → 城管; handled 4 Jun 10:00; rework 4 Jun 15:00 (limit
        now 9 Jun 17:30); handled 5 Jun 10:00; verified 11:00; rated 3.
                                                   on time; 15 h
    c3  grid A, 3 Jun → 城管 (due 6 Jun 17:30); the scan of 9 Jun 09:30 marks it
        overdue; handled 9 Jun 10:00; verified 11:00.   late; 29 h
    c4  grid A, 3 Jun → 城管, returned 11:00; re-dispatched to 水务 4 Jun 09:00
        (due 9 Jun 17:30); handled 5 Jun 10:00, not yet verified.   8 h
    c5  grid A, 3 Jun, not dispatched; rejected 09:30.
    c6  grid B, 16 Jun, by street_admin (not a grid worker) → 城管 (due 19 Jun).
    c7  grid C, 10 Jun, by outsider → 城管 (due 13 Jun).
    c8  grid A, 28 May 09:00 → 城管 (due 3 Jun 17:30); handled 3 Jun 10:00;
        verified 5 Jun 09:00, after its limit of 4 Jun 17:30.   on time; 22 h
    c9  grid A, 30 Jun 23:30 local → 城管: in June (due in July).
    c10 grid A, 1 Jul 00:10 local (30 Jun 16:10 UTC) → 城管: not in June.

    Every report but c6 and c7 is worker_a's; worker_a verifies and reworks.
    """
    note = {"note": "已处理"}
    c1 = make_case(worker_a, at=at(6, 3, 9), **point_a(0))
    c2 = make_case(worker_a, at=at(6, 3, 9), **point_a(1))
    c3 = make_case(worker_a, at=at(6, 3, 9), **point_a(2))
    c4 = make_case(worker_a, at=at(6, 3, 9), **point_a(3))
    with override_settings(WANGGE_CASE_AUTO_CHANNELS=()):
        c5 = make_case(worker_a, at=at(6, 3, 9), **point_a(4))
    c8 = make_case(worker_a, at=at(5, 28, 9), **point_a(5))
    assert {c.state for c in (c1, c2, c3, c4, c8)} == {"dispatched"} and c5.state == "reported"

    step(c1, chengguan, "accept", at(6, 3, 10))
    step(c1, chengguan, "handle", at(6, 4, 10), **note)
    step(c1, worker_a, "verify", at(6, 4, 14))
    step(c1, worker_a, "rate", at(6, 5, 9), rating=5)

    step(c2, chengguan, "accept", at(6, 3, 10))
    step(c2, chengguan, "handle", at(6, 4, 10), **note)
    step(c2, worker_a, "rework", at(6, 4, 15), note="垃圾未清理干净")
    step(c2, chengguan, "handle", at(6, 5, 10), **note)
    step(c2, worker_a, "verify", at(6, 5, 11))
    step(c2, worker_a, "rate", at(6, 6, 9), rating=3)

    step(c4, chengguan, "return", at(6, 3, 11), note="非本部门职责")
    step(c4, viewer, "dispatch", at(6, 4, 9), department_code="120110-SW")
    step(c4, shuiwu, "accept", at(6, 4, 10))
    step(c4, shuiwu, "handle", at(6, 5, 10), **note)

    step(c5, viewer, "reject", at(6, 3, 9, 30), note="重复反映，已在处理")

    step(c8, chengguan, "accept", at(5, 28, 10))
    step(c8, chengguan, "handle", at(6, 3, 10), **note)
    step(c8, worker_a, "verify", at(6, 5, 9))

    step(c3, chengguan, "accept", at(6, 3, 10))
    assert deadlines.scan(at(6, 9, 9, 30))["overdue"] == 1
    step(c3, chengguan, "handle", at(6, 9, 10), **note)
    step(c3, worker_a, "verify", at(6, 9, 11))

    c6 = make_case(street_admin, at=at(6, 16, 9), lon=city.POINT_B[0], lat=city.POINT_B[1])
    c7 = make_case(outsider, at=at(6, 10, 9), lon=city.POINT_C[0], lat=city.POINT_C[1])
    c9 = make_case(worker_a, at=at(6, 30, 23, 30), **point_a(6))
    c10 = make_case(worker_a, at=at(7, 1, 0, 10), **point_a(7))
    cases = June(*(Case.objects.get(pk=c.pk) for c in (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)))
    assert cases.c3.overdue and cases.c3.closed_on_time is False
    assert cases.c1.closed_on_time and cases.c2.closed_on_time and cases.c8.closed_on_time
    assert cases.c8.verified_on_time is False
    assert {c.state for c in (cases.c1, cases.c2, cases.c3, cases.c8)} == {"closed"}
    return cases


def by_key(rows: list[Row]) -> dict[str, Row]:
    return {r.key: r for r in rows}


# --- figures by hand ----------------------------------------------------------------


def test_grid_a_figures_match_the_hand_count(june: June, viewer: Any) -> None:
    rows = by_key(evaluate(viewer, by="grid", **JUNE))
    assert set(rows) == {city.GRID_A, city.GRID_B, city.GRID_C}
    a = rows[city.GRID_A]
    assert a.name == "A网格"
    # c1–c5 and c9; c8 was reported in May, c10 in July (local dates).
    assert a.reports == 6
    assert a.valid == 5                        # c5 rejected
    assert a.registered == 5 and a.dispatched == 5   # c1–c4 (c4 at its re-dispatch), c9
    assert a.due == 5                          # c1, c2, c3, c4, c8; c9's limit is in July
    assert (a.closed, a.closed_on_time, a.on_time_rate) == (4, 3, 0.75)   # c1 c2 c8 | c3
    assert a.overdue == 1                      # c3
    assert (a.rework, a.rework_rate) == (1, 0.2)    # 1 rework over 5 handled cases
    assert a.returns == 1                      # c4
    assert a.mean_handling_hours == pytest.approx((8 + 15 + 29 + 8 + 22) / 5)
    assert (a.verified, a.verified_on_time, a.verify_on_time_rate) == (4, 3, 0.75)  # c8 late
    assert (a.rated, a.satisfaction) == (2, 0.75)   # mean of 5 and 3 is 4 → 75 %
    # 0.75×40 + 0.8×20 + 0.75×15 + 0.75×25
    assert a.score == 76.0 and a.rank == 1


def test_grids_with_reports_only_have_no_score_and_no_rank(june: June, viewer: Any) -> None:
    rows = by_key(evaluate(viewer, by="grid", **JUNE))
    for code in (city.GRID_B, city.GRID_C):
        row = rows[code]
        assert (row.reports, row.valid, row.registered, row.dispatched, row.due) == (1, 1, 1, 1, 1)
        assert (row.closed, row.on_time_rate, row.score, row.rank) == (0, None, None, None)
    assert [r.key for r in evaluate(viewer, by="grid", **JUNE)] == [
        city.GRID_A, city.GRID_B, city.GRID_C]


def test_department_figures_follow_the_current_department(june: June, viewer: Any) -> None:
    rows = by_key(evaluate(viewer, by="department", **JUNE))
    assert set(rows) == {"120110-CG", "120110-SW"}   # c5 was never dispatched
    cg = rows["120110-CG"]
    assert cg.name == "东丽区城市管理委"
    assert (cg.reports, cg.valid, cg.registered, cg.dispatched) == (6, 6, 6, 6)  # c1-3 c6 c7 c9
    assert cg.due == 6                         # c1, c2, c3, c6, c7, c8
    assert (cg.closed, cg.closed_on_time, cg.overdue) == (4, 3, 1)
    assert (cg.rework, cg.rework_rate) == (1, 0.25)   # c1, c2, c3, c8 handled
    assert cg.returns == 1                     # c4's return, though c4 is now 水务's
    assert cg.mean_handling_hours == pytest.approx((8 + 15 + 29 + 22) / 4)
    assert (cg.verified, cg.verified_on_time, cg.rated, cg.satisfaction) == (4, 3, 2, 0.75)
    assert cg.score == 75.0

    sw = rows["120110-SW"]
    assert (sw.reports, sw.dispatched, sw.due, sw.closed, sw.returns) == (1, 1, 1, 0, 0)
    assert (sw.rework, sw.rework_rate, sw.mean_handling_hours) == (0, 0.0, 8.0)
    assert sw.on_time_rate is None and sw.verify_on_time_rate is None and sw.satisfaction is None
    # Its only figure is a handled case without rework: 100, ranked above 城管.
    assert (sw.score, sw.rank, cg.rank) == (100.0, 1, 2)


def test_street_and_community_rows_sum_their_grids(june: June, viewer: Any) -> None:
    streets = by_key(evaluate(viewer, by="street", **JUNE))
    assert set(streets) == {city.STREET_WEST, city.STREET_EAST}
    west = streets[city.STREET_WEST]
    assert west.name == "西街道"
    assert (west.reports, west.due, west.closed, west.returns) == (7, 6, 4, 1)  # grid A + c6
    assert streets[city.STREET_EAST].reports == 1
    communities = by_key(evaluate(viewer, by="community", **JUNE))
    assert communities[city.COMMUNITY_WEST].reports == 7
    assert communities[city.COMMUNITY_WEST].score == 76.0


def test_worker_rows_count_reports_and_verifications(june: June, viewer: Any) -> None:
    rows = by_key(evaluate(viewer, by="worker", **JUNE))
    # street_admin reported c6 but is no grid worker.
    assert set(rows) == {"worker_a", "outsider"}
    a = rows["worker_a"]
    assert a.name == "网格员甲"
    assert (a.reports, a.valid, a.registered, a.dispatched) == (6, 5, 5, 5)
    assert (a.verified, a.verified_on_time, a.verify_on_time_rate) == (4, 3, 0.75)
    # Handling is the departments' work, not the worker's.
    assert (a.closed, a.rework, a.returns, a.mean_handling_hours, a.rated) == (0, 0, 0, None, 0)
    assert (a.score, a.rank) == (75.0, 1)
    o = rows["outsider"]
    assert (o.reports, o.verified, o.score, o.rank) == (1, 0, None, None)


def test_the_period_is_counted_in_local_dates(june: June, viewer: Any) -> None:
    # c10 was filed on 1 July local time, still 30 June in UTC.
    july = by_key(evaluate(viewer, by="grid", start=date(2025, 7, 1), end=date(2025, 7, 1)))
    assert july[city.GRID_A].reports == 1
    may = by_key(evaluate(viewer, by="grid", start=date(2025, 5, 1), end=date(2025, 5, 31)))
    assert (may[city.GRID_A].reports, may[city.GRID_A].dispatched, may[city.GRID_A].closed) == (
        1, 1, 0)


# --- scope ----------------------------------------------------------------------------


def test_outsider_sees_no_row_of_grid_a_cases(june: June, outsider: Any) -> None:
    grids = evaluate(outsider, by="grid", **JUNE)
    assert [r.key for r in grids] == [city.GRID_C]
    departments = by_key(evaluate(outsider, by="department", **JUNE))
    assert set(departments) == {"120110-CG"}
    assert departments["120110-CG"].reports == 1 and departments["120110-CG"].closed == 0
    assert [r.key for r in evaluate(outsider, by="street", **JUNE)] == [city.STREET_EAST]


def test_street_admin_sees_only_the_west_street(june: June, street_admin: Any) -> None:
    assert [r.key for r in evaluate(street_admin, by="street", **JUNE)] == [city.STREET_WEST]
    assert {r.key for r in evaluate(street_admin, by="grid", **JUNE)} == {city.GRID_A, city.GRID_B}
    cg = by_key(evaluate(street_admin, by="department", **JUNE))["120110-CG"]
    assert cg.reports == 5                     # c7 is in the east street


def test_a_department_sees_only_its_own_cases(june: June, shuiwu: Any) -> None:
    rows = by_key(evaluate(shuiwu, by="department", **JUNE))
    sw = rows["120110-SW"]
    assert (sw.reports, sw.dispatched, sw.mean_handling_hours, sw.returns) == (1, 1, 8.0, 0)
    # c4 is 水务's now, and 城管 returned it: that return is 城管's, the only
    # figure 水务 sees of 城管.
    cg = rows["120110-CG"]
    assert cg.returns == 1
    assert (cg.reports, cg.due, cg.closed, cg.rework, cg.score) == (0, 0, 0, 0, None)


def test_evaluation_takes_a_bounded_number_of_queries(
        june: June, viewer: Any, django_assert_max_num_queries: Any) -> None:
    # The user's extra areas, case figures, step figures, handling times, names;
    # none of them grows with the number of rows.
    for by in ("department", "grid", "worker"):
        user = type(viewer).objects.get(pk=viewer.pk)
        with django_assert_max_num_queries(5):
            evaluate(user, by=by, **JUNE)


def test_an_anonymous_caller_gets_no_rows(june: June) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert evaluate(AnonymousUser(), by="grid", **JUNE) == []


# --- the period ------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "code"), [
    (date(2025, 6, 30), date(2025, 6, 1), "period_reversed"),
    (date(2024, 1, 1), date(2025, 1, 1), "period_too_long"),   # 367 days
])
def test_a_bad_period_is_refused(viewer: Any, start: date, end: date, code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        evaluate(viewer, by="grid", start=start, end=end)
    assert info.value.code == code
    assert info.value.status == 422 and info.value.message


def test_a_leap_year_is_not_too_long(viewer: Any) -> None:
    assert evaluate(viewer, by="grid", start=date(2024, 1, 1), end=date(2024, 12, 31)) == []


# --- score and rank (no database needed) ---------------------------------------------


def test_the_score_uses_only_the_figures_a_row_has() -> None:
    full = Row("a", "a", on_time_rate=1.0, rework_rate=0.0, verify_on_time_rate=1.0,
               satisfaction=1.0)
    assert score_of(full) == 100.0
    assert score_of(Row("b", "b", on_time_rate=0.5)) == 50.0
    assert score_of(Row("c", "c", rework_rate=3.0)) == 0.0     # more rework than cases: 0
    assert score_of(Row("d", "d", reports=9)) is None
    assert sum(evaluation.SCORE_WEIGHTS.values()) == 100


def test_equal_scores_share_a_rank() -> None:
    rows = rank([Row("x", "x", on_time_rate=0.5), Row("y", "y", on_time_rate=1.0),
                 Row("z", "z", on_time_rate=0.5), Row("w", "w"), Row("v", "v", on_time_rate=0.1)])
    assert [(r.key, r.rank) for r in rows] == [("y", 1), ("x", 2), ("z", 2), ("v", 4), ("w", None)]


def test_every_figure_has_a_definition_and_the_docstring_shows_it() -> None:
    figures = set(Row.__dataclass_fields__) - {"key", "name"}
    assert {d.field for d in evaluation.DEFINITIONS} == figures
    doc = " ".join((evaluation.__doc__ or "").split())
    for d in evaluation.DEFINITIONS:
        assert f"{d.field} | {d.label} | {d.text}" in doc, d.field


# --- the workbook --------------------------------------------------------------------------


def open_book(content: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(content))


def sheet_rows(ws: Any, header_line: int = 3) -> list[dict[str, Any]]:
    header = [c.value for c in ws[header_line]]
    return [dict(zip(header, (c.value for c in line), strict=True))
            for line in ws.iter_rows(min_row=header_line + 1)]


def test_the_workbook_matches_the_rows(june: June, viewer: Any) -> None:
    rows = evaluate(viewer, by="grid", **JUNE)
    book = open_book(to_xlsx(rows, title="考核评价", start=JUNE["start"], end=JUNE["end"], by="grid"))
    assert book.sheetnames == ["考核评价", "指标说明"]
    ws = book["考核评价"]
    assert ws["A1"].value == "考核评价"
    assert "2025-06-01 至 2025-06-30" in ws["A2"].value
    table = sheet_rows(ws)
    assert [line["编码"] for line in table] == [city.GRID_A, city.GRID_B, city.GRID_C]
    a = table[0]
    assert (a["排名"], a["网格"], a["上报数"], a["有效上报数"], a["结案数"], a["超期数"]) == (
        1, "A网格", 6, 5, 4, 1)
    assert (a["按时结案率"], a["返工率"], a["满意度"], a["综合得分"]) == (0.75, 0.2, 0.75, 76.0)
    assert a["平均处置时长（工作小时）"] == pytest.approx(16.4)
    assert ws.cell(row=4, column=[c.value for c in ws[3]].index("按时结案率") + 1
                   ).number_format == "0.0%"
    assert table[1]["排名"] is None and table[1]["按时结案率"] is None
    notes = [[c.value for c in line] for line in book["指标说明"].iter_rows()]
    assert notes[0] == ["指标", "字段", "定义"]
    assert notes[1 : len(evaluation.DEFINITIONS) + 1] == [
        [d.label, d.field, d.text] for d in evaluation.DEFINITIONS]
    assert ["统计对象", "grid", evaluation.ATTRIBUTION["grid"]] in notes
    assert ["按时结案率", "on_time_rate", 40] in notes


def test_the_workbook_keeps_formulas_as_text() -> None:
    rows = rank([Row("=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\")", on_time_rate=1.0),
                 Row("k2", "+1+1"), Row("k3", "@SUM(A1)"), Row("k4", "-2"), Row("k5", "普通")])
    ws = open_book(to_xlsx(rows, title="=1+1", start=JUNE["start"], end=JUNE["end"],
                           by="department"))["考核评价"]
    cells = [c for line in ws.iter_rows() for c in line if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = [line["部门"] for line in sheet_rows(ws)]
    assert names == ["'=HYPERLINK(\"http://x\")", "'+1+1", "'@SUM(A1)", "'-2", "普通"]
    assert ws["A1"].value == "'=1+1"


# --- API -------------------------------------------------------------------------------------


def test_the_api_answers_rows_and_definitions(june: June, viewer: Any, api_client: Any,
                                               auth_header: Any) -> None:
    r = api_client.get(URL, {"start": "2025-06-01", "end": "2025-06-30", "by": "grid"},
                       **auth_header(viewer))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["by"] == "grid" and body["start"] == "2025-06-01"
    rows = {row["key"]: row for row in body["rows"]}
    assert set(rows) == {city.GRID_A, city.GRID_B, city.GRID_C}
    assert rows[city.GRID_A]["reports"] == 6 and rows[city.GRID_A]["score"] == 76.0
    assert rows[city.GRID_A]["rank"] == 1 and rows[city.GRID_B]["rank"] is None
    assert {d["field"] for d in body["definitions"]} >= {"reports", "on_time_rate", "score"}
    assert body["weights"] == evaluation.SCORE_WEIGHTS and body["attribution"]


def test_the_api_respects_scope(june: June, outsider: Any, api_client: Any,
                                auth_header: Any) -> None:
    r = api_client.get(URL, {"start": "2025-06-01", "end": "2025-06-30", "by": "grid"},
                       **auth_header(outsider))
    assert [row["key"] for row in r.json()["rows"]] == [city.GRID_C]


def test_the_api_downloads_the_workbook(june: June, street_admin: Any, api_client: Any,
                                        auth_header: Any) -> None:
    r = api_client.get(URL + ".xlsx", {"start": "2025-06-01", "end": "2025-06-30", "by": "street"},
                       **auth_header(street_admin))
    assert r.status_code == 200, r.content
    assert r["Content-Type"] == XLSX_TYPE
    disposition = r["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="evaluation_street_20250601-20250630.xlsx"' in disposition
    assert "filename*=UTF-8''" + quote("考核评价_按街道_20250601-20250630.xlsx") in disposition
    ws = open_book(r.content)["考核评价"]
    table = sheet_rows(ws)
    assert [(line["编码"], line["街道"], line["上报数"]) for line in table] == [
        (city.STREET_WEST, "西街道", 7)]


@pytest.mark.parametrize("query", [
    {"start": "2025-06-30", "end": "2025-06-01"},
    {"start": "2024-01-01", "end": "2025-06-30"},
])
@pytest.mark.parametrize("suffix", ["", ".xlsx"])
def test_the_api_refuses_a_bad_period(viewer: Any, api_client: Any, auth_header: Any,
                                      query: dict[str, str], suffix: str) -> None:
    r = api_client.get(URL + suffix, {**query, "by": "grid"}, **auth_header(viewer))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] in ("period_reversed", "period_too_long")
    assert "日期" in body["message"] or "天" in body["message"]


def test_the_api_refuses_an_unknown_grouping_and_anonymous_callers(
        viewer: Any, api_client: Any, auth_header: Any) -> None:
    query = {"start": "2025-06-01", "end": "2025-06-30"}
    assert api_client.get(URL, {**query, "by": "planet"}, **auth_header(viewer)).status_code == 422
    assert api_client.get(URL, query).status_code == 401
