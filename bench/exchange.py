"""Benchmark: the exchange gateway on PostgreSQL, loaded from a second process.

Identity verifications (name + ID number → match or not) and catalog queries
(20 rows of a grid, ID number and birth date masked) through the gateway's own
server (granian, as `wangge gateway` runs it), each
request signed with a fresh nonce, with every check on: signature, replay,
rate window, published catalog, grant in force, items granted, masking and
the call log. The anchor is the same lookup behind a bare view on the same
server (bench.exchange_anchor): no checks, no masking, no log. Closed loop:
`--connections` keep-alive connections each send as fast as answers come.

    .venv/bin/python -m bench.exchange [--quick] [--people N] [--seconds S]

Figures: requests/s, p50 and p99 for each, the share the checks cost, and
whether the call log holds exactly one row per call.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.cases import _free_port
from bench.common import emit, fresh_database, machine, percentile

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/wangge_bench"
SEED = 20261123
CATALOG = "GA-RK-001"
DISTRICT = "120110"


def _grid(i: int) -> str:
    street, community, grid = 1 + i % 8, 1 + (i // 8) % 6, 1 + (i // 48) % 10
    return f"{DISTRICT}{street:03d}{community:03d}{grid:03d}"


def _id_number(rng: random.Random, born: date, n: int) -> str:
    from wangge.core.identity import id_check_char

    body = f"{DISTRICT}{born:%Y%m%d}{n % 1000:03d}"
    return body + id_check_char(body)


def _prepare(url: str, people: int) -> dict[str, Any]:
    fresh_database(url)
    from django.utils import timezone

    from wangge.accounts.models import Department
    from wangge.accounts.services import create_user
    from wangge.core.bulk import insert_values
    from wangge.demo import population
    from wangge.exchange import services
    from wangge.exchange.models import Backing, ShareClass
    from wangge.registry.models import Person

    rng = random.Random(SEED)
    now = timezone.now()
    seen: set[str] = set()
    rows: list[tuple[Any, ...]] = []
    pairs: list[tuple[str, str]] = []
    grids: set[str] = set()
    n = 0
    while len(rows) < people:
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
        id_number = _id_number(rng, born, rng.randrange(1000))
        if id_number in seen:
            continue
        seen.add(id_number)
        gender = "M" if n % 2 else "F"
        name = population.SURNAMES.pick(rng) + population.given_name(rng, gender, born.year)
        grid = _grid(rng.randrange(480))
        grids.add(grid)
        rows.append((name, [], id_number, gender, born, [f"139{n:08d}"], "汉族", "",
                     "", "", grid, now))
        if n % 50 == 0:
            pairs.append((name, id_number))
        n += 1
    fields = ["name", "former_names", "id_number", "gender", "birth_date", "phones", "ethnicity",
              "hukou_area", "residence_type", "address_text", "grid_code", "updated_at"]
    for start in range(0, len(rows), 10_000):
        insert_values(Person, fields, rows[start:start + 10_000])
    police = Department.objects.create(code="GA", name="区公安分局", type="police", area_code=DISTRICT)
    civil = Department.objects.create(code="MZ", name="区民政局", type="civil_affairs", area_code=DISTRICT)
    admin = create_user("bench_admin", "bench-pass-1234", role="admin")
    police_staff = create_user("bench_ga", "bench-pass-1234", role="department_staff", department=police)
    civil_staff = create_user("bench_mz", "bench-pass-1234", role="department_staff", department=civil)
    catalog = services.create_catalog(
        by=admin, owner=police, code=CATALOG, name="人口基础信息", share_class=ShareClass.CONDITIONAL,
        condition="身份核验", backing=Backing.PERSON,
        items=[services.ItemIn(k) for k in ("name", "id_number", "gender", "birth_date", "phones", "grid_code")],
        verify_items=["name", "id_number"], compare_keys=["id_number"])
    services.publish_catalog(catalog=catalog, by=admin)
    today = timezone.localdate()
    application = services.apply_for(
        by=civil_staff, department=civil, catalog=catalog, items=["name", "id_number", "grid_code", "birth_date"],
        purpose="社会救助对象身份核验", legal_basis="《社会救助暂行办法》", starts=today,
        ends=today + timedelta(days=365))
    services.decide_application(application=application, by=police_staff,
                                items={"name": False, "id_number": True, "grid_code": False, "birth_date": True})
    client, secret = services.create_client(by=civil_staff, department=civil, name="救助系统",
                                            rate_per_minute=600_000)
    from django.db import connection

    if connection.vendor == "postgresql":  # as a running system's tables are: statistics known
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    # A fifth of the verifications are wrong: another person's name.
    mixed = [(pairs[(i + 1) % len(pairs)][0] if i % 5 == 4 else name, number)
             for i, (name, number) in enumerate(pairs)]
    return {"key_id": client.key_id, "secret": secret, "pairs": mixed, "grids": sorted(grids)}


def _start(url: str, port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    """The gateway's own server as `wangge gateway` runs it (granian), serving
    the anchor's paths beside it."""
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "wangge.settings",
           "DB_CONN_MAX_AGE": "600"}
    argv = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "--log-level", "warning",
            "bench.exchange_anchor:application"]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT)  # noqa: S603
    import urllib.request

    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start (see its output above)")


def loadgen(args: argparse.Namespace) -> None:
    """The second process: closed loop over keep-alive connections."""
    import http.client

    from wangge.exchange import signing

    plan = json.loads(Path(args.plan).read_text())
    rng = random.Random(SEED)
    pairs, grids = plan["pairs"], plan["grids"]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop_at = time.perf_counter() + args.seconds

    def request(conn: http.client.HTTPConnection, i: int) -> int:
        prefix = "/anchor" if args.anchor else "/gateway/v1"
        if args.op == "verify":
            name, number = pairs[(i * 7919) % len(pairs)]
            body = json.dumps({"name": name, "id_number": number}, ensure_ascii=False).encode()
            path, query, method = f"{prefix}/catalogs/{CATALOG}/verify", "", "POST"
        else:
            body, method = b"", "GET"
            path, query = f"{prefix}/catalogs/{CATALOG}/rows", f"grid_code={grids[i % len(grids)]}&_limit=20"
        headers = signing.sign_headers(plan["key_id"], plan["secret"], method, path, query, body)
        headers["Content-Type"] = "application/json"
        conn.request(method, path + ("?" + query if query else ""), body=body or None, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status

    def run(worker: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        i = worker * 1_000_003 + rng.randrange(1000)
        mine: list[float] = []
        counts: Counter[int] = Counter()
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                status = request(conn, i)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
                status = 0
            mine.append(time.perf_counter() - t0)
            counts[status] += 1
            i += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(counts)

    started = time.perf_counter()
    cpu0 = time.process_time()
    threads = [threading.Thread(target=run, args=(w,)) for w in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    print(json.dumps({"wall": wall, "ok": statuses.get(200, 0), "total": sum(statuses.values()),
                      "statuses": {str(k): v for k, v in statuses.items()},
                      "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
                      "client_cpu": (time.process_time() - cpu0) / wall}))


def _drive(port: int, plan: Path, op: str, anchor: bool, seconds: float, connections: int) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.exchange", "--loadgen", "--port", str(port), "--plan", str(plan),
            "--op", op, "--seconds", str(seconds), "--connections", str(connections)]
    if anchor:
        argv.append("--anchor")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "wangge.settings"}
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=ROOT, env=env)  # noqa: S603
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: r["ok"] / r["wall"])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    # Two workers with one thread each on two cores served the most calls of
    # the layouts tried (granian 2×1, 2×2; gunicorn sync 2, 4, 6; gthread 2×4, 3×4, 4×2).
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--loadgen", action="store_true")
    parser.add_argument("--anchor", action="store_true")
    parser.add_argument("--op", default="verify")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--plan", default="")
    args = parser.parse_args()
    if args.loadgen:
        loadgen(args)
        return
    if args.quick:
        args.people, args.seconds, args.rounds = 20_000, 3, 1
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    t0 = time.perf_counter()
    prepared = _prepare(url, args.people)
    plan = ROOT / "var" / "bench-exchange-plan.json"
    plan.parent.mkdir(exist_ok=True)
    plan.write_text(json.dumps(prepared, ensure_ascii=False))
    emit("exchange_prepare", time.perf_counter() - t0, "s", people=args.people, **machine())
    from wangge.exchange.models import CallLog

    port = _free_port()
    server = _start(url, port, args.workers, args.threads)
    try:
        _drive(port, plan, "verify", False, 2, args.connections)  # warm up both paths
        _drive(port, plan, "verify", True, 1, args.connections)
        CallLog.objects.all().delete()
        calls = 0
        for op in ("verify", "query"):
            # Alternate short rounds and keep each side's median: the machine's
            # own drift (checkpoints, autovacuum) then falls on both alike.
            anchors, gots = [], []
            for _ in range(args.rounds):
                anchors.append(_drive(port, plan, op, True, args.seconds / args.rounds, args.connections))
                gots.append(_drive(port, plan, op, False, args.seconds / args.rounds, args.connections))
            calls += sum(g["total"] for g in gots)
            anchor, got = _median(anchors), _median(gots)
            rate, anchor_rate = got["ok"] / got["wall"], anchor["ok"] / anchor["wall"]
            emit(f"gateway_{op}_per_s", rate, "req/s", anchor=f"{op}_unchecked_per_s", anchor_value=anchor_rate,
                 checks_cost=round(1 - rate / anchor_rate, 3) if anchor_rate else None,
                 p50_ms=round(got["p50"] * 1000, 2), p99_ms=round(got["p99"] * 1000, 2),
                 anchor_p50_ms=round(anchor["p50"] * 1000, 2), anchor_p99_ms=round(anchor["p99"] * 1000, 2),
                 rounds=[round(g["ok"] / g["wall"]) for g in gots],
                 anchor_rounds=[round(a["ok"] / a["wall"]) for a in anchors],
                 statuses=got["statuses"], client_cpu=round(got["client_cpu"], 2),
                 connections=args.connections, workers=args.workers, threads=args.threads)
        logged = CallLog.objects.count()
        emit("gateway_call_log_rows_per_call", logged / calls if calls else 0, "rows/call", calls=calls,
             logged=logged)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
