from __future__ import annotations

import copy
import json

import pytest

from wangge.areas.models import Area
from wangge.areas.services import AreaImportRefused, export_areas, import_areas
from wangge.cli import main as wangge
from wangge.core.models import AuditEntry
from wangge.testing import city
from wangge.testing.city import box, feature

pytestmark = pytest.mark.django_db


def _fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def _problems(exc: AreaImportRefused) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in exc.problems:
        out.setdefault(p.code, []).append(p.message)
    return out


def test_small_city_imports_with_centroids_and_areas(small_city):
    grid = Area.objects.select_related("parent").get(code=city.GRID_A)
    assert grid.parent is not None and grid.parent.code == city.COMMUNITY_WEST
    assert grid.area_m2 is not None
    assert grid.centroid_lon == pytest.approx(117.35)
    assert 40e6 < grid.area_m2 < 50e6  # 0.1° × 0.05° near 39°N ≈ 8.6 km × 5.6 km
    assert Area.objects.get(code=city.DISTRICT).households == 890


def test_bad_import_changes_nothing_and_names_each_bad_feature(small_city):
    before = list(Area.objects.order_by("id").values_list("code", "name", "geometry"))
    audit_before = AuditEntry.objects.count()
    unclosed = box(117.30, 39.00, 117.40, 39.05)
    unclosed["coordinates"][0].pop()
    bowtie = {"type": "Polygon", "coordinates": [[[117.30, 39.0], [117.40, 39.05],
                                                  [117.40, 39.0], [117.30, 39.05], [117.30, 39.0]]]}
    data = _fc(
        feature(city.GRID_A, "A网格（改名）", "grid", city.COMMUNITY_WEST,
                box(117.30, 39.00, 117.40, 39.05)),                      # fine on its own
        feature("120110001001003", "缺口网格", "grid", city.COMMUNITY_WEST, unclosed),
        feature("120110001001004", "自相交", "grid", city.COMMUNITY_WEST, bowtie),
        feature("120110002001002", "错挂网格", "grid", city.COMMUNITY_WEST,
                box(117.30, 39.00, 117.31, 39.01)),                    # east code, west parent
        feature("120110001001005", "重叠网格", "grid", city.COMMUNITY_WEST,
                box(117.30, 39.08, 117.40, 39.10)),                     # inside B
        feature("120110001001005", "重复编码", "grid", city.COMMUNITY_WEST,
                box(117.30, 39.08, 117.40, 39.10)),
        feature("1201100010019", "位数不对", "grid", city.COMMUNITY_WEST,
                box(117.30, 39.00, 117.31, 39.01)),
        feature("120110009001001", "无上级", "grid", "120110009001",
                box(117.30, 39.00, 117.31, 39.01)),
    )
    with pytest.raises(AreaImportRefused) as refused:
        import_areas(None, data)
    problems = _problems(refused.value)
    assert "未闭合" in " ".join(problems["120110001001003"])
    assert "自相交" in " ".join(problems["120110001001004"])
    assert "应以 120110001001 开头" in " ".join(problems["120110002001002"])
    assert any("重叠" in m for m in problems["120110001001005"])
    assert any("编码重复" in m for m in problems["120110001001005"])
    assert "15 位" in " ".join(problems["1201100010019"])
    assert "不存在" in " ".join(problems["120110009001001"])
    assert city.GRID_A not in problems  # the good feature is not blamed
    after = list(Area.objects.order_by("id").values_list("code", "name", "geometry"))
    assert after == before
    assert AuditEntry.objects.count() == audit_before


def test_gap_in_a_community_is_refused(small_city):
    # Shrinking grid B leaves a strip of the west community uncovered.
    data = _fc(feature(city.GRID_B, "B网格", "grid", city.COMMUNITY_WEST,
                       box(117.30, 39.06, 117.40, 39.10)))
    with pytest.raises(AreaImportRefused) as refused:
        import_areas(None, data)
    problems = _problems(refused.value)
    assert any("未被下级区域覆盖" in m for m in problems[city.COMMUNITY_WEST])


def test_gap_within_tolerance_is_accepted(small_city):
    # A 0.1 mm sliver (under 1 m² over 8.6 km) is digitising noise, not a gap.
    data = _fc(feature(city.GRID_B, "B网格", "grid", city.COMMUNITY_WEST,
                       box(117.30, 39.050000001, 117.40, 39.10)))
    result = import_areas(None, data)
    assert result.updated == 1


def test_grid_outside_its_community_is_refused(small_city):
    data = _fc(feature(city.GRID_B, "B网格", "grid", city.COMMUNITY_WEST,
                       box(117.30, 39.05, 117.45, 39.10)))
    with pytest.raises(AreaImportRefused) as refused:
        import_areas(None, data)
    messages = " ".join(_problems(refused.value)[city.GRID_B])
    assert "超出上级区域" in messages


@pytest.mark.parametrize("data,needle", [
    ({"type": "Feature"}, "FeatureCollection"),
    ({"type": "FeatureCollection", "features": []}, "没有要素"),
    (_fc({"type": "Feature", "properties": {"code": "120110", "name": "区", "level": "district"},
          "geometry": {"type": "Point", "coordinates": [117, 39]}}), "Polygon"),
    (_fc(feature("120110", "区", "district", None, box(39.0, 117.3, 39.1, 117.4))), "写反"),
    (_fc(feature("120110", "区", "town", None, box(117.3, 39.0, 117.4, 39.1))), "层级"),
])
def test_malformed_files_get_a_clear_message(db, data, needle):
    with pytest.raises(AreaImportRefused) as refused:
        import_areas(None, data)
    assert needle in " ".join(p.message for p in refused.value.problems)


def test_export_then_import_round_trips(small_city):
    exported = export_areas()
    assert {f["properties"]["layer"] for f in exported["features"]} == {"base", "police"}
    result = import_areas(None, copy.deepcopy(exported))
    assert result.created == 0 and result.updated == len(exported["features"])
    assert export_areas() == exported


def test_cli_import_reports_each_problem_and_exit_code(small_city, tmp_path, capsys):
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(_fc(feature("12011000100100X", "坏", "grid", city.COMMUNITY_WEST,
                                           box(117.3, 39.0, 117.31, 39.01)))), encoding="utf-8")
    assert wangge(["import-areas", str(path)]) == 1
    err = capsys.readouterr().err
    assert "12011000100100X" in err and "数字" in err


def test_cli_export_and_locate(small_city, tmp_path, capsys):
    out = tmp_path / "areas.geojson"
    assert wangge(["export-areas", "-o", str(out)]) == 0
    assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) == 9
    assert wangge(["locate", str(city.POINT_C[0]), str(city.POINT_C[1])]) == 0
    assert city.GRID_C in capsys.readouterr().out
    assert wangge(["locate", str(city.POINT_OUTSIDE[0]), str(city.POINT_OUTSIDE[1])]) == 3
    assert "最近" in capsys.readouterr().out
