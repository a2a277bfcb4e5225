"""Department files for the registry tests, on the test address library
(see addresses.py): real CSV files in the encodings departments send."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from wangge.core.identity import id_check_char


def make_id(body17: str) -> str:
    return body17 + id_check_char(body17)


WANG_WEI = make_id("12011019800102123")     # grid A, 华明家园3号楼2单元201室
LI_NA = make_id("12011019900506242")        # grid A, 华明家园1号楼1单元101室
ZHAO_LIU = make_id("12011019551111331")     # grid C, 丽苑小区1号楼1单元101室
BAD_CHECKSUM = WANG_WEI[:-1] + ("1" if WANG_WEI[-1] != "1" else "2")

POLICE_HEADERS = ["编号", "姓名", "公民身份号码", "性别", "出生日期", "联系电话", "现住址", "人员类别"]
POLICE_ROWS = [
    ["GA-1", "王伟", WANG_WEI, "男", "1980-01-02", "13812345678", "华明家园3号楼2单元201室", ""],
    ["GA-2", "李娜", LI_NA, "女", "1990-05-06", "13900001111", "华明家园1号楼1单元101室", ""],
    ["GA-3", "赵六", ZHAO_LIU, "男", "1955-11-11", "13700002222", "丽苑小区1号楼1单元101室", "独居老人、低保"],
    ["GA-4", "钱七", BAD_CHECKSUM, "男", "1980-01-02", "", "华明家园2号楼1单元101室", ""],
    ["GA-5", "孙八", "", "男", "2999-01-01", "13600003333", "华明家园2号楼1单元102室", ""],
]
HEALTH_HEADERS = ["身份证号", "姓名", "生日", "手机号", "居住地址"]
HEALTH_ROWS = [
    # Traditional script, the old 15-digit number, dash notation for the room.
    [WANG_WEI[:6] + WANG_WEI[8:17], "王偉", "1980/1/2", "13812345678", "华明家园3-2-201"],
    # No ID: found by name, birth date and address.
    ["", "李娜", "19900506", "13900001111", "华明小区1号楼1单元101"],
]


def write_csv(path: Path, headers: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def make_sources() -> dict[str, Any]:
    from wangge.registry.models import Channel, Source

    police = Source.objects.create(code="police", name="公安户籍", channel=Channel.DEPARTMENT_FILE,
                                   trust={"default": 0.9, "phones": 0.5})
    health = Source.objects.create(code="health", name="卫健", channel=Channel.DEPARTMENT_FILE,
                                   trust={"default": 0.6, "phones": 0.8})
    return {"police": police, "health": health}
