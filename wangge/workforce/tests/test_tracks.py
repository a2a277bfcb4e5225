"""Patrol metrics (tracks.py): hand-made tracks, one per rule, and the vectorised
`day_metrics` against the per-row anchor on random data. No database."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from wangge.workforce.tracks import (
    DayMetrics,
    Flag,
    Schedule,
    coverage,
    day_metrics,
    day_metrics_per_row,
    interval_metrics,
    segment_lengths_m,
)

DAY = 20_000  # a local day number (2024-10-04)
MIDNIGHT = DAY * 86_400 - 8 * 3600  # its local midnight, epoch seconds (UTC 16:00 the day before)
LON0, LAT0 = 116.40, 39.90
M_PER_DEG_LAT = math.pi / 180 * 6_371_008.8


@dataclass
class Track:
    t: list[float]
    lon: list[float]
    lat: list[float]
    inside: list[bool]

    def __add__(self, other: Track) -> Track:
        return Track(self.t + other.t, self.lon + other.lon, self.lat + other.lat,
                     self.inside + other.inside)

    def metrics(self, owner: int = 1, schedule: Schedule | None = None) -> list[DayMetrics]:
        owners = [owner] * len(self.t)
        sch = schedule or Schedule()
        fast = day_metrics(owners, self.t, self.lon, self.lat, self.inside, sch)
        slow = day_metrics_per_row(owners, self.t, self.lon, self.lat, self.inside, sch)
        assert_same(fast, slow)
        return fast


def hm(text: str) -> float:
    """Local "HH:MM[:SS]" on DAY as epoch seconds."""
    parts = [int(p) for p in text.split(":")] + [0]
    return MIDNIGHT + parts[0] * 3600 + parts[1] * 60 + parts[2]


def walk(start: str, end: str, *, inside: bool = True, step: float = 5.0,
         metres_per_s: float = 1.0, lat: float = LAT0) -> Track:
    """Points every `step` s from `start` to `end` inclusive, walking north. The
    position follows the clock, so walks added one after another join up."""
    t0, t1 = hm(start), hm(end)
    ts = [t0 + i * step for i in range(int((t1 - t0) // step) + 1)]
    lats = [lat + (ti - MIDNIGHT) * metres_per_s / M_PER_DEG_LAT for ti in ts]
    return Track(ts, [LON0] * len(ts), lats, [inside] * len(ts))


def assert_same(got: list[DayMetrics], want: list[DayMetrics]) -> None:
    assert [(m.owner, m.day, m.points, m.compliant) for m in got] == [
        (m.owner, m.day, m.points, m.compliant) for m in want]
    for g, w in zip(got, want, strict=True):
        for field in ("distance_m", "inside_s", "morning_inside_s", "afternoon_inside_s"):
            assert getattr(g, field) == pytest.approx(getattr(w, field), rel=1e-9, abs=1e-6)
        assert [(f.kind, f.start, f.end, f.limit) for f in g.flags] == [
            (f.kind, f.start, f.end, f.limit) for f in w.flags]
        assert [f.value for f in g.flags] == pytest.approx([f.value for f in w.flags], rel=1e-9)


def test_segment_lengths_match_known_distances() -> None:
    # 0.001° of latitude is ~111.2 m; 0.001° of longitude at 40° N is ~85.2 m.
    got = segment_lengths_m([LON0, LON0, LON0 + 0.001], [40.0, 40.001, 40.001])
    assert got == pytest.approx([111.195, 85.18], rel=1e-3)
    assert segment_lengths_m([LON0], [LAT0]).shape == (0,)


def test_double_patrol_is_compliant() -> None:
    [m] = (walk("07:00", "08:40") + walk("14:00", "15:40")).metrics()
    assert (m.day, m.points) == (DAY, 2 * 1201)
    assert m.morning_inside_s == 6000 and m.afternoon_inside_s == 6000
    assert m.inside_s == 12_000  # the 5-hour hole between the patrols is a gap
    assert m.distance_m == pytest.approx(12_000, rel=1e-6)  # 1 m/s, gap not counted
    assert m.compliant and m.flags == ()


def test_morning_only_is_not_compliant() -> None:
    [m] = walk("07:00", "08:40").metrics()
    assert m.morning_inside_s == 6000 and m.afternoon_inside_s == 0
    assert not m.compliant


def test_patrol_short_of_ninety_minutes_is_not_compliant() -> None:
    [m] = (walk("07:00", "08:29:55") + walk("14:00", "15:40")).metrics()
    assert m.morning_inside_s == 5395 and not m.compliant


def test_segment_counts_in_the_window_of_its_start() -> None:
    [m] = walk("11:00", "13:00").metrics()
    # The 11:59:55 → 12:00:00 segment is morning's; windows are [start, end).
    assert m.morning_inside_s == 3600 and m.afternoon_inside_s == 3600
    [m] = walk("05:00", "07:00").metrics()
    assert m.morning_inside_s == 3600 and m.inside_s == 7200
    [m] = walk("19:00", "21:00").metrics()
    assert m.afternoon_inside_s == 3600 and m.inside_s == 7200


def test_ten_minute_gap_counts_neither_time_nor_distance() -> None:
    track = walk("07:00", "07:30") + walk("07:40", "08:10", lat=LAT0 + 0.01)
    [m] = track.metrics()
    assert m.inside_s == 3600  # 2 × 30 min; the 10 min between are lost
    assert m.distance_m == pytest.approx(3600, rel=1e-6)  # not the ~1.1 km jump


def test_gap_of_exactly_max_gap_still_counts() -> None:
    [m] = (walk("07:00", "07:30") + walk("07:35", "08:05")).metrics()
    assert m.inside_s == 3600 + 300


def test_teleport_point_gives_one_speed_flag_and_no_distance() -> None:
    track = walk("07:00", "07:10")
    track.lon[60] += 0.05  # ~4.3 km east for one 5-s fix, then back
    [m] = track.metrics()
    [flag] = m.flags
    assert flag.kind == "speed"
    assert (flag.start, flag.end) == (track.t[59], track.t[61])  # both jumps, merged
    jump_kmh = max(segment_lengths_m(track.lon[59:62], track.lat[59:62])) / 5 * 3.6
    assert flag.value == pytest.approx(jump_kmh)
    assert m.distance_m == pytest.approx(600 - 10, rel=1e-6)  # 2 jumped segments of 5 m out
    assert m.inside_s == 600  # a fast segment is still time
    assert flag.as_dict() == {"kind": "speed", "start": flag.start, "end": flag.end,
                              "value": flag.value,
                              "text": f"07:04–07:05 速度 {jump_kmh:.0f} 公里/小时，超过 60"}


def test_only_speed_over_the_limit_is_flagged() -> None:
    [m] = walk("07:00", "07:10", metres_per_s=60 / 3.6 * 0.999).metrics()
    assert m.flags == () and m.distance_m > 9000
    [m] = walk("07:00", "07:10", metres_per_s=60 / 3.6 * 1.001).metrics()
    assert [f.kind for f in m.flags] == ["speed"] and m.distance_m == 0


def test_forty_minutes_outside_is_flagged_with_its_minutes() -> None:
    track = walk("14:00", "14:05") + walk("14:05:05", "14:45", inside=False) + walk(
        "14:45:05", "15:00")
    [m] = track.metrics()
    [flag] = m.flags
    assert flag == Flag("outside", hm("14:05:05"), hm("14:45:05"), 2400.0, 1800.0)
    assert flag.as_dict()["text"] == "14:05–14:45 连续离开网格 40 分钟"
    assert m.inside_s == 300 + 895  # segments touching the stretch are not inside


def test_twenty_minutes_outside_is_not_flagged() -> None:
    track = walk("14:00", "14:05") + walk("14:05:05", "14:25", inside=False) + walk(
        "14:25:05", "15:00")
    assert track.metrics()[0].flags == ()


def test_outside_run_at_day_end_runs_to_its_last_point() -> None:
    [m] = (walk("14:00", "14:05") + walk("14:05:05", "14:45", inside=False)).metrics()
    assert [(f.kind, f.start, f.end) for f in m.flags] == [
        ("outside", hm("14:05:05"), hm("14:45"))]


def test_gap_breaks_an_outside_stretch() -> None:
    out = walk("14:00", "14:20", inside=False) + walk("14:30", "14:50", inside=False)
    assert out.metrics()[0].flags == ()
    # The same 50 minutes without the hole is one stretch.
    assert [f.kind for f in walk("14:00", "14:50", inside=False).metrics()[0].flags] == [
        "outside"]


def test_shuffled_input_with_duplicates_matches_sorted() -> None:
    track = walk("07:00", "08:40") + walk("09:00", "09:50", inside=False) + walk(
        "14:00", "15:40")
    track.lon[100] += 0.05
    want = track.metrics()
    rng = np.random.default_rng(7)
    idx = np.concatenate((np.arange(len(track.t)), rng.integers(0, len(track.t), 300)))
    rng.shuffle(idx)
    owner = np.ones(idx.size, dtype=np.int64)
    t, lon, lat, inside = (np.asarray(c)[idx] for c in (track.t, track.lon, track.lat,
                                                          track.inside))
    assert day_metrics(owner, t, lon, lat, inside) == want
    assert_same(day_metrics_per_row(owner, t, lon, lat, inside), want)


def test_repeated_time_keeps_the_first_row() -> None:
    t = [hm("07:00"), hm("07:00:05"), hm("07:00:05"), hm("07:00:10")]
    lat = [LAT0, LAT0 + 0.0001, LAT0 + 0.5, LAT0 + 0.0002]  # the second 07:00:05 is junk
    for fn in (day_metrics, day_metrics_per_row):
        [m] = fn([1] * 4, t, [LON0] * 4, lat, [True] * 4)
        assert m.points == 3 and m.flags == ()
        assert m.distance_m == pytest.approx(0.0002 * M_PER_DEG_LAT)


def test_owners_and_days_are_separate() -> None:
    a = walk("07:00", "08:40")
    b = walk("14:00", "15:40")
    next_day = Track([x + 86_400 for x in a.t], a.lon, a.lat, a.inside)
    owners = [5] * len(a.t) + [3] * len(b.t) + [5] * len(next_day.t)
    both = a + b + next_day
    got = day_metrics(owners, both.t, both.lon, both.lat, both.inside)
    assert_same(got, day_metrics_per_row(owners, both.t, both.lon, both.lat, both.inside))
    assert [(m.owner, m.day, m.morning_inside_s, m.afternoon_inside_s) for m in got] == [
        (3, DAY, 0, 6000), (5, DAY, 6000, 0), (5, DAY + 1, 6000, 0)]
    # Owner 5's afternoon is not owner 3's, and day 2 does not join day 1.
    assert not any(m.compliant for m in got)


def test_local_midnight_splits_days() -> None:
    # Walk until 23:59:55, then stand still from 00:00 to 00:10.
    after = [float(MIDNIGHT + 86_400 + s) for s in range(0, 601, 5)]
    n = len(after)
    track = walk("23:50", "23:59:55") + Track(after, [LON0] * n, [LAT0] * n, [True] * n)
    assert (MIDNIGHT + 86_400) % 86_400 == 16 * 3600  # local midnight is 16:00 UTC
    first, second = track.metrics()
    assert (first.day, first.points, first.inside_s) == (DAY, 120, 595)
    assert (second.day, second.points, second.inside_s) == (DAY + 1, 121, 600)
    assert first.distance_m == pytest.approx(595, rel=1e-6)
    assert second.distance_m == 0  # standing still; the 23:59:55 → 00:00 jump is not counted


def test_utc_offset_moves_the_day_and_windows() -> None:
    track = walk("07:00", "07:50")
    [m] = day_metrics([1] * len(track.t), track.t, track.lon, track.lat, track.inside,
                      utc_offset_s=0)
    # 07:00 Beijing is 23:00 UTC the day before: outside both windows.
    assert (m.day, m.inside_s, m.morning_inside_s) == (DAY - 1, 3000, 0)
    assert track.metrics()[0].morning_inside_s == 3000


def test_single_point_day() -> None:
    for fn in (day_metrics, day_metrics_per_row):
        assert fn([9], [hm("08:00")], [LON0], [LAT0], [False]) == [
            DayMetrics(9, DAY, 1, 0.0, 0.0, 0.0, 0.0, False, ())]
        assert fn([], [], [], [], []) == []


def test_interval_metrics_matches_the_day() -> None:
    track = walk("14:00", "14:05") + walk("14:05:05", "14:45", inside=False) + walk(
        "14:45:05", "15:00")
    track.lon[30] += 0.05
    [m] = track.metrics()
    distance, inside_s, flags = interval_metrics(track.t, track.lon, track.lat, track.inside)
    assert distance == pytest.approx(m.distance_m)
    assert inside_s == m.inside_s and flags == m.flags
    assert [f.kind for f in flags] == ["speed", "outside"]
    assert interval_metrics([], [], [], []) == (0.0, 0.0, ())


def test_coverage_counts_buildings_within_the_radius() -> None:
    track = walk("07:00", "07:10")  # 600 m north along LON0
    mid = track.lat[60]
    d_lon = 1 / (M_PER_DEG_LAT * math.cos(math.radians(mid)))  # degrees per metre east
    buildings_lon = [LON0 + 30 * d_lon, LON0 + 80 * d_lon]
    assert coverage(track.lon, track.lat, buildings_lon, [mid, mid], 50) == 0.5
    assert coverage(track.lon, track.lat, buildings_lon, [mid, mid], 100) == 1.0
    assert coverage(track.lon, track.lat, [], [], 50) is None
    assert coverage([], [], buildings_lon, [mid, mid], 50) == 0.0


def test_vectorised_matches_per_row_anchor_on_random_tracks() -> None:
    rng = np.random.default_rng(20_241_004)
    owners: list[np.ndarray] = []
    ts: list[np.ndarray] = []
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    insides: list[np.ndarray] = []
    for owner in range(6):
        n = 800
        # Mostly 5-s fixes, sometimes a hole longer than max_gap_s; starting late
        # in the evening for some owners so their tracks cross local midnight.
        step = np.where(rng.random(n) < 0.005, rng.uniform(301, 900, n), 5.0)
        t = hm("22:30" if owner % 2 else "07:00") + np.cumsum(step)
        lat = LAT0 + np.cumsum(rng.normal(0, 3, n)) / M_PER_DEG_LAT
        lon = LON0 + np.cumsum(rng.normal(0, 3, n)) / 85_000
        jump = rng.random(n) < 0.01
        lon[jump] += rng.uniform(0.01, 0.1, jump.sum())
        # Inside/outside in long stretches so some pass outside_alert_s.
        inside = (np.cumsum(rng.random(n) < 1 / 150) % 2 == 0)
        owners.append(np.full(n, owner))
        ts.append(t)
        lons.append(lon)
        lats.append(lat)
        insides.append(inside)
    # Append 200 repeated rows, then shuffle everything.
    dup = rng.integers(0, 6 * 800, 200)
    perm = rng.permutation(6 * 800 + 200)

    def column(parts: list[np.ndarray]) -> np.ndarray:
        whole = np.concatenate(parts)
        return np.concatenate((whole, whole[dup]))[perm]

    cols = (column(owners), column(ts), column(lons), column(lats), column(insides))
    schedule = Schedule(outside_alert_s=600.0)

    got = day_metrics(*cols, schedule=schedule)
    assert_same(got, day_metrics_per_row(*cols, schedule=schedule))
    kinds = {f.kind for m in got for f in m.flags}
    assert kinds == {"speed", "outside"}  # the data exercises both flags
    assert len({m.day for m in got}) == 2 and sum(m.points for m in got) == 4800
