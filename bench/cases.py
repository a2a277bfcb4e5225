"""Cases: intake over HTTP, routing correctness, classification accuracy.

1. classification — the char n-gram model trained on the catalog's phrases and
   generated past reports (seed 1), scored on held-out generated reports
   (seed 2). Anchor in the same run: keyword lookup (the catalog item whose
   name or phrase shares the most character bigrams with the text), what a
   rule-based intake does without a model.
2. ingest — POST /api/v1/cases on PostgreSQL through gunicorn, driven by a load
   generator in a second process at fixed rates (open loop: each request has a
   scheduled start, and latency counts from it, so a slow server cannot hide
   its queue). Anchor: GET /api/v1/health at the same rates on the same server,
   the floor of the stack (Django, gunicorn, token auth, loopback).
3. routing — of the ingested reports the system dispatched, the share that
   reached the department the rules give for the report's true category at its
   place (reports filed with a category test locating and routing; those filed
   as text only test the classifier too); and how many were held for the
   centre, by reason (a possible duplicate, an uncertain category, no route).

    python -m bench.cases                 # rates 100,300,500,700 for 10 s each
    python -m bench.cases --quick         # smoke run
    python -m bench.cases --skip-ingest   # classification only (no PostgreSQL)

PostgreSQL: BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/wangge_bench
(created and emptied by this script; never the test database).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import emit, fresh_database, machine, percentile

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/wangge_bench"
SEED = 20261123


# --- 1. classification ---------------------------------------------------------


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def keyword_baseline(items: Any) -> Any:
    vocab = [(item.code, [_bigrams(p) for p in (item.name, *item.phrases)]) for item in items]

    def guess(text: str) -> str:
        grams = _bigrams(text)
        best, best_score = "", -1.0
        for code, phrase_grams in vocab:
            score = max(len(grams & g) / (len(g) or 1) for g in phrase_grams)
            if score > best_score:
                best, best_score = code, score
        return best

    return guess


def bench_classification(n_train: int, n_test: int) -> None:
    from wangge.cases import classify
    from wangge.cases.catalog import ITEMS
    from wangge.demo.reports import sample_reports

    catalog = [(p, i.code) for i in ITEMS for p in (i.name, *i.phrases)]
    train = catalog + sample_reports(1, n_train)
    test = sample_reports(2, n_test)
    seconds, model = _timed(lambda: classify.train(train))
    scores = classify.evaluate(model, test)
    texts = [t for t, _ in test]
    per_text, _ = _timed(lambda: [model.top(t) for t in texts[:500]])
    baseline = keyword_baseline(ITEMS)
    base_acc = sum(baseline(classify.normalise(t)) == c for t, c in test) / len(test)
    emit("classify_top1", scores["accuracy"], "share", anchor="keyword_lookup", anchor_value=base_acc,
         test=len(test), train=len(train), categories=len(ITEMS), seed=2)
    emit("classify_top3", scores["top3"], "share")
    emit("classify_abstained", scores["abstained"], "share", higher_is_better=False,
         threshold=classify.CONFIDENCE_THRESHOLD)
    emit("classify_top1_when_confident", scores["accuracy_when_confident"], "share")
    emit("classify_train_seconds", seconds, "s", higher_is_better=False)
    emit("classify_ms_per_text", per_text / 500 * 1000, "ms", higher_is_better=False)


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


# --- 2. ingest -------------------------------------------------------------------


def _prepare_database(url: str, people: int) -> dict[str, Any]:
    """A fresh PostgreSQL database with a demo city, the catalog and a token."""
    fresh_database(url)
    from wangge.accounts.services import create_user, issue_token
    from wangge.addresses.models import Address
    from wangge.demo import names
    from wangge.demo.cases import setup_cases
    from wangge.demo.generator import generate_city

    generate_city(seed=SEED, people=people, registry=False, cases=False)
    setup_cases(names.DISTRICT_CODE)
    user = create_user("bench", "bench-pass-1234", role="grid_worker", area_code=names.DISTRICT_CODE)
    # Reports come from where people live: building points spread over every
    # grid, so nearby same-category reports are as rare as in a real district.
    spots = list(Address.objects.filter(level="building", lon__isnull=False)
                 .order_by("code").values_list("code", "lon", "lat"))
    return {"token": issue_token(user, "bench").key, "grids": spots}


def _bodies(n: int, grids: list[tuple[str, float, float]], seed: int) -> list[bytes]:
    from wangge.cases.catalog import by_code
    from wangge.demo.reports import report_text

    items = by_code()
    rng = random.Random(seed)
    from wangge.demo.reports import sample_reports

    out = []
    for i, (_, code) in enumerate(sample_reports(seed, n)):
        _, lon, lat = rng.choice(grids)
        body = {"description": report_text(rng, items[code]), "lon": lon + rng.uniform(-1e-4, 1e-4),
                "lat": lat + rng.uniform(-1e-4, 1e-4), "external_id": f"bench:{code}:{i}"}
        if i % 2 == 0:
            body["category"] = code
        out.append(json.dumps(body, ensure_ascii=False).encode())
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(url: str, port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "wangge.settings",
           "DB_CONN_MAX_AGE": "600"}
    argv = [sys.executable, "-m", "gunicorn", "wangge.wsgi:application", "--bind",
            f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
            "--worker-class", "gthread" if threads > 1 else "sync", "--log-level", "warning",
            "--timeout", "60", "--backlog", "2048"]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT)  # noqa: S603
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def loadgen(args: argparse.Namespace) -> None:
    """The second process: fire requests on schedule, print one JSON result."""
    import http.client

    bodies = [line.encode() for line in Path(args.bodies).read_text().splitlines()] if args.bodies else []
    n = int(args.rate * args.seconds)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    counter = iter(range(n))
    start = time.perf_counter() + 0.2
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            due = start + i / args.rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            try:
                if bodies:
                    conn.request("POST", "/api/v1/cases", body=bodies[i % len(bodies)], headers=headers)
                else:
                    conn.request("GET", "/api/v1/health", headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
                status = 0
            done = time.perf_counter()
            with lock:
                latencies.append(done - due)
                statuses[status] += 1
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    print(json.dumps({"sent": n, "wall": wall, "ok": sum(v for k, v in statuses.items() if 200 <= k < 300),
                      "statuses": {str(k): v for k, v in statuses.items()},
                      "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
                      "max": latencies[-1] if latencies else None}))


def _drive(port: int, token: str, rate: float, seconds: float, bodies: str | None,
           connections: int) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.cases", "--loadgen", "--port", str(port), "--token", token,
            "--rate", str(rate), "--seconds", str(seconds), "--connections", str(connections)]
    if bodies:
        argv += ["--bodies", bodies]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=ROOT)  # noqa: S603
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_ingest(args: argparse.Namespace) -> None:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    prepared = _prepare_database(url, args.people)
    rates = [float(r) for r in args.rates.split(",")]
    total = int(sum(rates) * args.seconds) + 400
    bodies_path = ROOT / "var" / "bench-case-bodies.jsonl"
    bodies_path.parent.mkdir(exist_ok=True)
    bodies_path.write_bytes(b"\n".join(_bodies(min(total, 20000), prepared["grids"], SEED)))
    port = _free_port()
    server = _start_server(url, port, args.workers, args.threads)
    try:
        _drive(port, prepared["token"], 100, 2, str(bodies_path), args.connections)   # warm up
        for rate in rates:
            floor = _drive(port, prepared["token"], rate, args.seconds, None, args.connections)
            got = _drive(port, prepared["token"], rate, args.seconds, str(bodies_path), args.connections)
            emit(f"ingest_{int(rate)}_per_s_p99", got["p99"] * 1000, "ms", higher_is_better=False,
                 anchor="health_p99", anchor_value=floor["p99"] * 1000, p50_ms=round(got["p50"] * 1000, 2),
                 achieved_per_s=round(got["ok"] / got["wall"], 1), ok=got["ok"], sent=got["sent"],
                 statuses=got["statuses"], health_p50_ms=round(floor["p50"] * 1000, 2),
                 workers=args.workers, threads=args.threads)
        # The stack's own ceiling on this machine: the anchor alone, pushed.
        for rate in (1000, 2000):
            floor = _drive(port, prepared["token"], rate, args.seconds, None, args.connections)
            emit(f"health_{rate}_per_s_p99", floor["p99"] * 1000, "ms", higher_is_better=False,
                 p50_ms=round(floor["p50"] * 1000, 2), achieved_per_s=round(floor["ok"] / floor["wall"], 1))
    finally:
        server.terminate()
        server.wait(timeout=30)
    bench_routing()


# --- 3. routing ------------------------------------------------------------------


def bench_routing() -> None:
    from wangge.cases.models import Case, Category
    from wangge.cases.routing import route

    categories = {c.code: c for c in Category.objects.all()}
    right = total = 0
    held: Counter[str] = Counter()
    by_mode: Counter[str] = Counter()
    right_by_mode: Counter[str] = Counter()
    cases = Case.objects.filter(external_id__startswith="bench:").only(
        "external_id", "department_id", "area_code", "layers", "category_id", "outside",
        "possible_duplicate_id")
    for case in cases.iterator():
        _, code, i = case.external_id.split(":")
        if case.department_id is None:
            # Held for the centre by design: say why, and leave them out of the share.
            held["possible_duplicate" if case.possible_duplicate_id else "uncertain_category"
                 if case.category_id is None else "outside" if case.outside else "no_route"] += 1
            continue
        mode = "with_category" if int(i) % 2 == 0 else "text_only"
        expected = route(categories[code], case.area_code, case.layers)
        total += 1
        by_mode[mode] += 1
        if expected and expected.department.pk == case.department_id:
            right += 1
            right_by_mode[mode] += 1
    if not total:
        return
    emit("routing_correct_of_dispatched", right / total, "share", cases=total,
         held_for_centre=dict(held))
    for mode in by_mode:
        emit(f"routing_correct_{mode}", right_by_mode[mode] / by_mode[mode], "share", cases=by_mode[mode])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--skip-ingest", action="store_true")
    p.add_argument("--rates", default="100,300,500,700")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--people", type=int, default=100000)
    p.add_argument("--loadgen", action="store_true")
    p.add_argument("--port", type=int)
    p.add_argument("--token")
    p.add_argument("--rate", type=float)
    p.add_argument("--bodies")
    args = p.parse_args()
    if args.loadgen:
        loadgen(args)
        return
    if args.quick:
        args.rates, args.seconds, args.people = "100,200", 3, 20000
    print(json.dumps({"bench": "cases", **machine(), "seed": SEED}), flush=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    n_train, n_test = (2000, 500) if args.quick else (8000, 2000)
    bench_classification(n_train, n_test)
    if not args.skip_ingest:
        import psycopg

        try:
            bench_ingest(args)
        except psycopg.OperationalError as exc:  # no PostgreSQL on this machine
            print(json.dumps({"skipped": "ingest", "reason": str(exc)[:200]}), flush=True)


if __name__ == "__main__":
    main()
