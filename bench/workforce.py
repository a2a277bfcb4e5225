"""Workforce: a district's daily patrol figures.

1,800 workers, each patrolling 2 × 93 min of 5-second fixes (two sessions: 07:30 and
14:30), about 3.9M fixes; a random walk from the grid's centre, so some
workers stray out of their grid and some days fall short of 一日双巡.

1. metrics — the figures from fixes already in memory (inside own grids,
   distance, time inside per session, compliance, speed and outside flags,
   building coverage). Anchor in the same run: the same rules as a plain
   Python loop over the fixes (tracks.day_metrics_per_row), on a sample of
   workers; both must give the same figures.
2. compute_days — the whole job from the database: read the day's fixes,
   derive, write one PatrolDay per worker. Anchor: reading the fixes as ORM
   rows and deriving with the per-row loop, on a sample of workers.

    python -m bench.workforce            # 1,800 workers, SQLite in a temp folder
    python -m bench.workforce --quick    # 120 workers
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_bench python -m bench.workforce
"""

from __future__ import annotations

import argparse
import os
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from bench.common import emit, fresh_database, machine, timed

SEED = 20261123
STEP_S = 5
SESSION_S = 93 * 60
DAY = date(2026, 11, 20)


def _grids(seed: int, n: int) -> list[Any]:
    from wangge.areas.locator import GridRecord
    from wangge.demo.geometry import build_district

    return [GridRecord(f["properties"]["layer"], f["properties"]["code"], f["properties"]["name"],
                       f["geometry"]) for f in build_district(seed, n)
            if f["properties"]["level"] == "grid" and f["properties"]["layer"] == "base"]


def _walks(rng: np.random.Generator, centres: np.ndarray, radius_m: np.ndarray, kx: float, ky: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two 93-minute loops per worker around the grid's centre at walking pace,
    the loop's size wavering; one worker in eight strays three times as far."""
    n_workers = len(centres)
    per = SESSION_S // STEP_S
    owners, ts, lons, lats = [], [], [], []
    day0 = datetime(DAY.year, DAY.month, DAY.day, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    for session_start in (7.5 * 3600, 14.5 * 3600):
        stray = np.where(rng.random((n_workers, 1)) < 0.125, 3.0, 1.0)
        phase = rng.uniform(0, 6.3, (n_workers, 1))
        wave = 0.4 + 0.2 * np.sin(np.arange(per) / rng.uniform(40, 160, (n_workers, 1)) + phase)
        r = radius_m[:, None] * stray * wave + rng.normal(0, 1.5, (n_workers, per))
        speed = rng.uniform(0.8, 1.5, (n_workers, 1))
        theta = phase + np.cumsum(speed * STEP_S / np.maximum(np.abs(r), 20.0), axis=1)
        lons.append((centres[:, :1] + r * np.cos(theta) / kx).ravel())
        lats.append((centres[:, 1:] + r * np.sin(theta) / ky).ravel())
        owners.append(np.repeat(np.arange(n_workers), per))
        ts.append(np.tile(day0 + session_start + np.arange(per) * STEP_S, n_workers))
    return np.concatenate(owners), np.concatenate(ts), np.concatenate(lons), np.concatenate(lats)


def build(args: argparse.Namespace) -> dict[str, Any]:
    from shapely.geometry import shape

    from wangge.areas.locator import GridIndex

    grids = _grids(args.seed, args.workers)[: args.workers]
    index = GridIndex(grids)
    shapes = [shape(g.geometry) for g in grids]
    centres = np.array([s.representative_point().coords[0] for s in shapes])
    radius_m = np.array([np.sqrt(s.area * index.kx * index.ky) / 2 for s in shapes])
    rng = np.random.default_rng(args.seed)
    owners, t, lon, lat = _walks(rng, centres, radius_m, index.kx, index.ky)
    order = np.lexsort((t, owners))
    owners, t, lon, lat = owners[order], t[order], lon[order], lat[order]
    session = ((t + 8 * 3600) % 86400 >= 12 * 3600).astype(int)
    hits = index.locate_many(lon, lat, layers=["base"], with_nearest=False).hits["base"]
    codes = np.array([g.code for g in grids] + [""])
    grid = codes[np.where(hits >= 0, hits, len(grids))]
    # Buildings: 30 per grid around its centre, what coverage is measured against.
    spread = np.repeat(radius_m, 30) * 0.6
    blon = np.repeat(centres[:, 0], 30) + rng.normal(0, 1, len(grids) * 30) * spread / index.kx
    blat = np.repeat(centres[:, 1], 30) + rng.normal(0, 1, len(grids) * 30) * spread / index.ky
    return {"grids": grids, "owners": owners, "t": t, "session": session, "lon": lon, "lat": lat, "grid": grid,
            "codes": codes[:-1], "blon": blon, "blat": blat, "bowner": np.repeat(np.arange(len(grids)), 30)}


def bench_metrics(data: dict[str, Any], sample: int) -> None:
    from wangge.workforce import tracks

    owners, t, lon, lat = data["owners"], data["t"], data["lon"], data["lat"]
    inside = data["grid"] == data["codes"][owners]

    def vectorised() -> list[Any]:
        out = tracks.day_metrics(owners, t, lon, lat, inside)
        bounds = np.searchsorted(owners, np.arange(owners.max() + 2))
        bb = np.searchsorted(data["bowner"], np.arange(owners.max() + 2))
        for w in range(owners.max() + 1):
            tracks.coverage(lon[bounds[w]:bounds[w + 1]], lat[bounds[w]:bounds[w + 1]],
                            data["blon"][bb[w]:bb[w + 1]], data["blat"][bb[w]:bb[w + 1]], 50.0)
        return out

    seconds, result = timed(vectorised)
    n = len(t)
    keep = owners < sample
    anchor_s, anchor = timed(lambda: tracks.day_metrics_per_row(
        owners[keep], t[keep], lon[keep], lat[keep], inside[keep]))
    same = [(m.owner, m.compliant, round(m.inside_s), round(m.distance_m)) for m in result if m.owner < sample] == \
        [(m.owner, m.compliant, round(m.inside_s), round(m.distance_m)) for m in anchor]
    emit("workforce.metrics", n / seconds, "points/s", anchor="per-row Python loop",
         anchor_value=int(keep.sum()) / anchor_s, points=n, seconds=round(seconds, 3),
         compliant_share=round(sum(m.compliant for m in result) / len(result), 3),
         flagged_days=sum(bool(m.flags) for m in result), same_as_anchor=same)


def load_database(data: dict[str, Any]) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from wangge.accounts.models import User
    from wangge.addresses.models import Address
    from wangge.core.bulk import insert_values
    from wangge.workforce.models import Assignment, Patrol, Worker

    grids = data["grids"]
    password = make_password(None)
    with transaction.atomic():
        User.objects.bulk_create([User(username=f"w{i}", role="grid_worker", area_code=g.code, password=password)
                                  for i, g in enumerate(grids)], batch_size=1000)
        users = dict(User.objects.values_list("username", "pk"))
        Worker.objects.bulk_create([Worker(user_id=users[f"w{i}"]) for i in range(len(grids))], batch_size=1000)
        workers = dict(Worker.objects.values_list("user__username", "pk"))
        wid = np.array([workers[f"w{i}"] for i in range(len(grids))])
        Assignment.objects.bulk_create([Assignment(worker_id=int(wid[i]), grid_code=g.code)
                                        for i, g in enumerate(grids)], batch_size=1000)
        Address.objects.bulk_create([
            Address(code=f"B{i:07d}", level="building", name=f"{i}栋", full_name=f"{i}栋",
                    lon=float(x), lat=float(y), grid_code=grids[int(o)].code)
            for i, (x, y, o) in enumerate(zip(data["blon"], data["blat"], data["bowner"], strict=True))],
            batch_size=2000)
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    owners, t = data["owners"], data["t"]
    session = data["session"]
    firsts: dict[tuple[int, int], float] = {}
    for o, s, x in zip(owners.tolist(), session.tolist(), t.tolist(), strict=True):
        firsts.setdefault((o, s), x)
    Patrol.objects.bulk_create([
        Patrol(worker_id=int(wid[o]), client_id=f"s{s}", started_at=datetime.fromtimestamp(x, tz),
               ended_at=datetime.fromtimestamp(x + SESSION_S, tz), status="ended")
        for (o, s), x in firsts.items()], batch_size=1000)
    by_key = {(w, c): pk for pk, w, c in Patrol.objects.values_list("pk", "worker_id", "client_id")}
    pid = np.array([by_key[(int(wid[w]), f"s{s}")] for w, s in zip(owners, session, strict=True)])
    rows = zip(pid.tolist(), (datetime.fromtimestamp(x, tz) for x in t.tolist()), data["lon"].tolist(),
               data["lat"].tolist(), data["grid"].tolist(), strict=True)
    cols = ["patrol_id", "at", "lon", "lat", "grid_code"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.copy(
                f"COPY workforce_trackpoint ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        batch: list[tuple[Any, ...]] = []
        with transaction.atomic():
            for row in rows:
                batch.append(row)
                if len(batch) == 50_000:
                    insert_values(_track_model(), cols, batch)
                    batch = []
            if batch:
                insert_values(_track_model(), cols, batch)


def _track_model() -> Any:
    from wangge.workforce.models import TrackPoint

    return TrackPoint


def bench_compute_days(data: dict[str, Any], sample: int) -> None:
    from django.utils import timezone

    from wangge.workforce import services, tracks
    from wangge.workforce.models import PatrolDay, TrackPoint, Worker

    seconds, written = timed(lambda: services.compute_days(DAY))
    n = len(data["t"])
    compliant = PatrolDay.objects.filter(day=DAY, compliant=True).count()
    some = list(Worker.objects.order_by("pk").values_list("pk", flat=True)[:sample])

    def per_row() -> int:
        grids = dict(Worker.objects.filter(pk__in=some).values_list("pk", "assignments__grid_code"))
        rows = TrackPoint.objects.filter(patrol__worker_id__in=some).select_related("patrol")
        owner, ts, lon, lat, inside = [], [], [], [], []
        for p in rows.iterator(chunk_size=5000):
            owner.append(p.patrol.worker_id)
            ts.append(p.at.timestamp())
            lon.append(p.lon)
            lat.append(p.lat)
            inside.append(p.grid_code == grids[p.patrol.worker_id])
        tracks.day_metrics_per_row(np.array(owner), np.array(ts), np.array(lon), np.array(lat), np.array(inside))
        return len(ts)

    anchor_s, anchor_n = timed(per_row)
    emit("workforce.compute_days", n / seconds, "points/s", anchor="ORM rows + per-row loop",
         anchor_value=anchor_n / anchor_s, seconds=round(seconds, 2), points=n, days_written=written,
         compliant=compliant, day=str(DAY), tz=str(timezone.get_current_timezone()))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workers", type=int, default=1800)
    p.add_argument("--sample", type=int, default=100, help="workers the per-row anchors run on")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--skip-db", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.workers, args.sample = 120, 20
    url = fresh_database(os.environ.get("BENCH_DATABASE_URL"))
    emit("workforce.setup", args.workers, "workers", db=url.split(":")[0], **machine())
    build_s, data = timed(lambda: build(args))
    emit("workforce.fixes", len(data["t"]), "points", build_s=round(build_s, 2),
         outside_share=round(float((data["grid"] != data["codes"][data["owners"]]).mean()), 3))
    bench_metrics(data, args.sample)
    if args.skip_db:
        return
    load_s, _ = timed(lambda: load_database(data))
    emit("workforce.load", len(data["t"]) / load_s, "points/s", seconds=round(load_s, 1))
    bench_compute_days(data, args.sample)


if __name__ == "__main__":
    main()
