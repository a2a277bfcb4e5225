"""Water-meter files in, flags and visit tasks out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from wangge.core.errors import InvalidInput, OutOfScope
from wangge.core.models import AuditEntry
from wangge.proactive import engine
from wangge.proactive.models import WaterAccount, WaterFlag, WaterReading
from wangge.proactive.services import import_water_csv
from wangge.proactive.tests.helpers import (
    NOW,
    make_house,
    make_person,
    monthly,
    room,
    tasks,
    water_csv,
)

pytestmark = pytest.mark.django_db

HOME = "华明家园3号楼2单元201室"
UNKNOWN = "幸福里小区9号楼1单元101室"


def test_bad_rows_are_reported_by_line_and_the_good_rows_land(world: dict[str, Any], admin_user: Any) -> None:
    house = make_house(room(3, 2, 201))
    data = water_csv([
        ["W001", HOME, "2026-09-30", "", "5"],          # line 2: good
        ["W001", HOME, "2026/10/31", "", "6.5"],        # line 3: good
        ["W001", HOME, "2026-13-01", "", "4"],          # line 4: no such date
        ["", HOME, "2026-10-31", "", "4"],              # line 5: no account
        ["W009", HOME, "2026-10-31", "", "-3"],         # line 6: negative use
        ["W009", HOME, "2026-10-31", "", ""],           # line 7: nothing measured
        ["W001", HOME, "20261031", "", "6.5"],          # line 8: same account and date as line 3
        ["W002", UNKNOWN, "2026-10-31", "", "3"],       # line 9: good, address unknown
    ])
    imp = import_water_csv(by=admin_user, file_name="十月抄表.csv", data=data)
    assert (imp.rows_ok, imp.rows_bad, imp.rows_unmatched) == (3, 5, 1)
    assert [e["line"] for e in imp.errors] == [4, 5, 6, 7, 8]
    reasons = {e["line"]: e["reason"] for e in imp.errors}
    assert "抄表日期“2026-13-01”" in reasons[4] and reasons[5] == "用水户号为空"
    assert reasons[6] == "用水量不能为负数：-3" and reasons[7] == "表底数和用水量都为空"
    assert reasons[8] == "与第 3 行重复（同一用水户号、同一抄表日期）"
    assert WaterReading.objects.count() == 3
    w001 = WaterAccount.objects.get(account_no="W001")
    assert w001.house == house and w001.grid_code == house.grid_code
    # The account nobody could place is kept, with its readings, and listed.
    w002 = WaterAccount.objects.get(account_no="W002")
    assert w002.house is None and w002.readings.count() == 1
    assert imp.unmatched == [{"account_no": "W002", "address_text": UNKNOWN, "note": w002.match_note}]
    assert "在标准地址库中找不到" in w002.match_note
    entry = AuditEntry.objects.get(action="proactive.import_water", object_id=str(imp.pk))
    assert "错误 5 行" in entry.reason


def test_a_gb18030_file_with_full_width_digits_and_the_same_file_twice(world: dict[str, Any],
                                                                      admin_user: Any) -> None:
    make_house(room(3, 2, 201))
    data = water_csv([["W001", HOME, "２０２６年９月３０日", "１２３．５"], ["W001", HOME, "2026-10-31", "130"]],
                     header=["户号", "地址", "抄表日期", "读数（吨）"], encoding="gb18030")
    first = import_water_csv(by=admin_user, file_name="gbk.csv", data=data)
    assert (first.rows_ok, first.rows_bad) == (2, 0), first.errors
    assert list(WaterReading.objects.order_by("date").values_list("reading", flat=True)) == [123.5, 130.0]
    second = import_water_csv(by=admin_user, file_name="gbk.csv", data=data)
    assert (second.rows_ok, second.accounts_new) == (2, 0) and WaterReading.objects.count() == 2
    assert "与已有记录相同 2 行" in second.message and f"与第 {first.pk} 次导入的文件内容相同" in second.message


def test_a_meter_that_goes_backwards_is_a_warning_not_an_error(world: dict[str, Any], admin_user: Any) -> None:
    data = water_csv([["W001", HOME, "2026-09-30", "500", ""], ["W001", HOME, "2026-10-31", "3", ""]])
    imp = import_water_csv(by=admin_user, file_name="reset.csv", data=data)
    assert imp.rows_ok == 2 and imp.rows_bad == 0
    assert imp.warnings[0]["line"] == 3 and "小于上次（2026-09-30）的 500，可能已换表或表计归零" in imp.warnings[0]["reason"]


def test_an_address_that_stops_at_the_unit_is_not_guessed(world: dict[str, Any], admin_user: Any) -> None:
    make_house(room(3, 2, 201))
    make_house(room(3, 2, 202))
    import_water_csv(by=admin_user, file_name="unit.csv",
                     data=water_csv([["W003", "华明家园3号楼2单元", "2026-10-31", "", "3"]]))
    account = WaterAccount.objects.get(account_no="W003")
    assert account.house is None and account.address is not None
    assert "其下有 2 套房屋，无法确定是哪一套" in account.match_note


def test_missing_columns_refuse_the_file_with_a_clear_message(world: dict[str, Any], admin_user: Any) -> None:
    with pytest.raises(InvalidInput, match="缺少必需的列：抄表日期") as caught:
        import_water_csv(by=admin_user, file_name="x.csv", data=water_csv([["W1", "x", "3"]], header=["户号", "地址", "读数"]))
    assert caught.value.code == "water_columns_missing"


def test_only_staff_may_import(world: dict[str, Any], worker_a: Any) -> None:
    with pytest.raises(OutOfScope):
        import_water_csv(by=worker_a, file_name="x.csv", data=water_csv([["W1", HOME, "2026-10-31", "", "3"]]))


def year(account: str, text: str, uses: Sequence[float | None], **kw: Any) -> list[list[Any]]:
    return monthly(account, text, uses, **kw)


def test_zero_use_in_an_occupied_house_becomes_a_visit_task_with_the_evidence(
        world: dict[str, Any], admin_user: Any, worker_a: Any) -> None:
    make_house(room(3, 2, 201))
    make_person("赵六", at=room(3, 2, 201))
    make_house(room(3, 2, 202), use="vacant")  # empty: zero use is expected
    make_house(room(3, 1, 101))  # nobody registered there
    uses = [5, 4, 5, 6, 5, 4, 5, 5, 5, 4, 0, 0]
    rows = (year("W001", HOME, uses) + year("W002", "华明家园3号楼2单元202室", uses)
            + year("W003", "华明家园3号楼1单元101室", uses))
    import_water_csv(by=admin_user, file_name="year.csv", data=water_csv(rows))
    [run] = engine.run_rules(NOW, ["water_zero"])
    assert (run.matched, run.opened) == (1, 1), run.error
    [task] = tasks("water_zero")
    assert task.assignee == worker_a and task.kind == "utility" and task.subject_type == "water_account"
    assert task.reason.startswith("用水户 W001（津塘路100号华明家园3号楼2单元201室）自 2026-08-31 至 2026-10-31 共 61 天、"
                                  "连续 2 期抄表用水量为 0；该房屋登记为自住，有 1 名登记居住人员")
    periods = task.evidence["periods"]
    assert task.evidence["days"] == 61 and len(periods["rows"]) == 12
    assert dict(zip(periods["columns"], periods["rows"][-1], strict=True)) == {
        "date": "2026-10-31", "reading": None, "use": 0.0, "days": 31, "daily": 0.0, "meter_reset": False}
    flag = WaterFlag.objects.get()
    assert (flag.kind, str(flag.period_start), str(flag.period_end)) == ("zero", "2026-08-31", "2026-10-31")
    # Water resumes: the next import ends the flag's task.
    import_water_csv(by=admin_user, file_name="nov.csv",
                     data=water_csv([["W001", HOME, "2026-11-19", "", "3"]]))
    [again] = engine.run_rules(NOW, ["water_zero"])
    assert (again.matched, again.closed) == (0, 1)


def test_a_spike_from_cumulative_readings_becomes_a_task(world: dict[str, Any], admin_user: Any) -> None:
    make_house(room(3, 2, 201))
    uses = [3.0, 3.2, 3.1, 2.9, 3.0, 3.3, 3.1, 3.0, 2.8, 3.2, 3.1, 14.0]
    import_water_csv(by=admin_user, file_name="spike.csv", data=water_csv(year("W001", HOME, uses, readings=True)))
    assert WaterReading.objects.filter(use__isnull=False).count() == 0  # only readings were given
    [run] = engine.run_rules(NOW, ["water_spike"])
    assert (run.matched, run.opened) == (1, 1), run.error
    [task] = tasks("water_spike")
    evidence = task.evidence
    assert evidence["history"] == 10 and evidence["z"] > 3 and evidence["latest_use"] == 14.0
    assert {"mean", "std", "latest", "z"} <= set(evidence)
    assert "2026-09-30 至 2026-10-31 日均用水 0.45 吨，高于该户此前 10 期的日均 0.10 吨" in task.reason
    assert WaterFlag.objects.get().kind == "spike"
    # A second run opens nothing and writes no second flag.
    [again] = engine.run_rules(NOW, ["water_spike"])
    assert (again.opened, again.kept) == (0, 1) and WaterFlag.objects.count() == 1


def test_an_account_without_a_house_is_placed_once_the_house_is_registered(world: dict[str, Any],
                                                                           admin_user: Any) -> None:
    first = import_water_csv(by=admin_user, file_name="a.csv", data=water_csv([["W001", HOME, "2026-09-30", "", "5"]]))
    account = WaterAccount.objects.get()
    assert account.house is None and account.address is not None and first.rows_unmatched == 1
    assert "但该地址没有登记房屋" in account.match_note
    house = make_house(room(3, 2, 201))
    later = import_water_csv(by=admin_user, file_name="b.csv", data=water_csv([["W001", "", "2026-10-31", "", "5"]]))
    account.refresh_from_db()
    assert account.house == house and account.match_note == "" and later.rows_unmatched == 0
