"""Pure rules of core: coordinates and the hash chain. No database."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.core import chain, coords


@given(st.floats(73.7, 134.7), st.floats(18.2, 53.5))
@settings(max_examples=300, deadline=None)
def test_gcj02_round_trip_within_a_millimetre(lon, lat):
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    wlon, wlat = coords.gcj02_to_wgs84(glon, glat)
    assert abs(float(wlon) - lon) < 1e-8 and abs(float(wlat) - lat) < 1e-8


@given(st.floats(73.7, 134.7), st.floats(18.2, 53.5))
@settings(max_examples=200, deadline=None)
def test_bd09_round_trip(lon, lat):
    blon, blat = coords.from_wgs84(lon, lat, "bd09")
    wlon, wlat = coords.to_wgs84(blon, blat, "bd09")
    assert abs(float(wlon) - lon) < 1e-6 and abs(float(wlat) - lat) < 1e-6


def test_gcj02_offset_is_hundreds_of_metres_in_tianjin():
    glon, glat = coords.wgs84_to_gcj02(117.40, 39.10)
    kx, ky = coords.metres_per_degree(39.10)
    offset = math.hypot((float(glon) - 117.40) * kx, (float(glat) - 39.10) * ky)
    assert 100 < offset < 1000


def test_outside_china_is_unchanged():
    assert coords.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def test_batch_conversion_matches_single():
    lons, lats = [117.1, 117.2, 117.3], [39.0, 39.1, 39.2]
    blon, blat = coords.gcj02_to_wgs84(lons, lats)
    for i in range(3):
        s = coords.gcj02_to_wgs84(lons[i], lats[i])
        assert float(s[0]) == pytest.approx(blon[i], abs=1e-12)
        assert float(s[1]) == pytest.approx(blat[i], abs=1e-12)


def test_unknown_crs_is_refused():
    with pytest.raises(ValueError, match="unknown coordinate system"):
        coords.to_wgs84(1, 2, "utm")


@pytest.mark.parametrize("lon,lat,word", [
    (117.0, 95.0, "纬度"), (190.0, 39.0, "经度"), (float("nan"), 39.0, "有限"),
])
def test_coordinate_problem_names_the_axis(lon, lat, word):
    problem = coords.coordinate_problem(lon, lat)
    assert problem is not None and word in problem


def _links(n):
    prev, out = chain.GENESIS, []
    for i in range(1, n + 1):
        payload = {"seq": i, "action": "a", "fields": ["x"]}
        h = chain.link_hash(prev, payload)
        out.append(chain.Link(i, prev, h, payload))
        prev = h
    return out


def test_chain_whole():
    links = _links(5)
    assert chain.first_break(links, head_seq=5, head_hash=links[-1].hash) is None


def test_chain_reordering_is_found():
    links = _links(5)
    links[1], links[2] = links[2], links[1]
    broken = chain.first_break(links)
    assert broken is not None and broken.seq == 2
