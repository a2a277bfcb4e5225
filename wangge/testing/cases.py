"""A small catalog, departments and routing for case tests, on the tiny city
of wangge/testing/city.py, and `make_case` to file a report with defaults."""

from __future__ import annotations

import io
from typing import Any

import pytest

from wangge.testing import city

# (code, name, group, department type, limits, verify, phrases)
CATALOG = (
    ("E0101", "暴露垃圾", "市容环境", "urban_management", ("3d", "8h", "2h"), "1d",
     ("路边垃圾堆积无人清运", "小区门口垃圾成堆发臭", "绿化带里有很多垃圾", "垃圾桶满了溢出来",
      "街角堆着生活垃圾", "垃圾散落一地没人管")),
    ("C0102", "井盖破损", "公用设施", "water", ("2d", "4h", "2h"), "4h",
     ("井盖破了一个洞", "窨井盖缺失很危险", "下水道井盖松动", "井盖塌陷车辆经过有响声",
      "路中间的井盖不见了", "雨水井盖破损")),
    ("E0501", "占道经营", "街面秩序", "urban_management", ("1d", "4h", "2h"), "4h",
     ("流动摊贩占用人行道卖水果", "早点摊占道经营", "商户把货物摆到店外", "夜市摊位堵塞道路",
      "小贩在路口摆摊", "门店出店经营占用盲道")),
    ("E0701", "邻里纠纷", "矛盾纠纷", "justice", ("5d", "1d", "4h"), "2d",
     ("楼上楼下因为漏水吵架", "邻居噪音扰民发生争执", "两户人家因停车位争吵",
      "邻里之间因为养狗起纠纷", "居民因楼道堆物吵起来", "邻居装修噪音引发矛盾")),
    ("C0201", "路灯不亮", "公用设施", "urban_management", ("3d", "1d", "4h"), "1d",
     ("路灯不亮了", "整条街的路灯晚上都不亮", "路灯坏了一直闪", "小区路灯损坏",
      "路灯杆歪了灯也不亮", "晚上路灯全黑")),
    ("E0301", "施工扰民", "施工管理", "housing", ("2d", "8h", "2h"), "1d",
     ("工地夜间施工噪音很大", "施工扬尘严重没有覆盖", "工地半夜还在打桩",
      "施工车辆带泥上路", "建筑工地围挡倒了", "工地晚上开工吵得睡不着")),
)

DEPARTMENTS = (
    ("120110-CG", "东丽区城市管理委", "urban_management"),
    ("120110-SW", "东丽区水务局", "water"),
    ("120110-SF", "东丽区司法局", "justice"),
    ("120110-ZJ", "东丽区住建委", "housing"),
    ("120110-GA", "东丽公安分局", "police"),
    ("120110-ZZ", "综治中心", "governance"),
    ("120111-CG", "邻区城市管理委", "urban_management"),
)


def make_catalog() -> None:
    from wangge.accounts.models import Department
    from wangge.cases import lookups
    from wangge.cases.classifying import forget
    from wangge.cases.models import Category, Kind

    for code, name, kind in DEPARTMENTS:
        Department.objects.get_or_create(code=code, defaults={
            "name": name, "type": kind, "area_code": code.split("-")[0]})
    for code, name, group, dept, (normal, urgent, emergency), verify, phrases in CATALOG:
        Category.objects.get_or_create(code=code, defaults={
            "name": name, "kind": Kind.COMPONENT if code[0] == "C" else Kind.EVENT, "group": group,
            "department_type": dept, "limit_normal": normal, "limit_urgent": urgent,
            "limit_emergency": emergency, "verify_limit": verify, "phrases": "\n".join(phrases)})
    forget()
    lookups.forget()


def department(code: str) -> Any:
    from wangge.accounts.models import Department

    return Department.objects.get(code=code)


def make_case(by: Any = None, **overrides: Any) -> Any:
    """File a report through the real intake; by default a grid worker's report
    of 暴露垃圾 in grid A, which is dispatched at once to 城管."""
    from wangge.cases.services import Report, file_report

    at = overrides.pop("at", None)
    client = overrides.pop("client", "")
    fields: dict[str, Any] = {"description": "路边垃圾堆积无人清运", "lon": city.POINT_A[0],
                              "lat": city.POINT_A[1], "category_code": "E0101"}
    fields.update(overrides)
    return file_report(report=Report(**fields), by=by, at=at, client=client)


def png_bytes(size: tuple[int, int] = (8, 6)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def catalog(small_city: None) -> None:
    make_catalog()


@pytest.fixture
def chengguan(catalog: None) -> Any:
    from wangge.accounts.services import create_user

    return create_user("chengguan", "pass-chengguan", role="department_staff", area_code=city.DISTRICT,
                       department=department("120110-CG"), display_name="城管队员")


@pytest.fixture
def shuiwu(catalog: None) -> Any:
    from wangge.accounts.services import create_user

    return create_user("shuiwu", "pass-shuiwu", role="department_staff", area_code=city.DISTRICT,
                       department=department("120110-SW"), display_name="水务员")
