"""`wangge`: the command line for people who run the platform.

    wangge demo                      set up and start the demo city
    wangge serve [--port 8000]       web server
    wangge worker                    background jobs
    wangge tick [--all]              run the periodic ticks that are due (or all) once
    wangge generate --people N --seed S [--no-registry] [--no-cases]
    wangge cases load-catalog --area 120110
    wangge import-areas FILE.geojson [--tolerance M2]
    wangge export-areas [--layer L] [-o FILE]
    wangge locate LON LAT [--crs wgs84|gcj02|bd09]
    wangge audit verify | wangge audit head
    wangge fusion import FILE --source CODE [--kind person|organisation]
    wangge fusion relink             re-run entity resolution over all records
    wangge fusion dedupe records.csv --out clusters.csv
    wangge manage ARGS…              any Django management command
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    import django

    django.setup()


def _progress_bar() -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A tqdm bar per stage, for callbacks of the form (stage, done, total)."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="", leave=True,
                                     file=sys.stderr, dynamic_ncols=True)
        bar.total = total
        bar.n = done
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def _migrate(verbose: bool = False) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)


def _collectstatic() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def cmd_generate(args: argparse.Namespace) -> int:
    _setup_django()
    _migrate()
    from wangge.demo.generator import city_exists, generate_city

    if city_exists():
        print("数据库中已有区域数据，未重复生成（如需重建，请删除 var/ 下的数据库或换用新库）。")
        return 1
    update, close = _progress_bar()
    try:
        summary = generate_city(seed=args.seed, people=args.people, registry=not args.no_registry,
                                cases=False if args.no_cases else None, progress=update)
    finally:
        close()
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    _setup_django()
    from wangge.areas.models import Area
    from wangge.cases.catalog import ITEMS
    from wangge.cases.services import load_catalog

    area = Area.objects.filter(layer_id="base", code=args.area).first()
    if area is None or area.level != "district":
        print(f"区域编码 {args.area} 不是库中的区：类别的默认部门按区确定，请给出区级编码（如 120110）",
              file=sys.stderr)
        return 2
    result = load_catalog(by=None, items=ITEMS, area_code=args.area)
    print(f"案件类别已载入（{area.name}）：新增 {result['created']}，更新 {result['updated']}，"
          f"共 {result['total']} 个")
    return 0


def cmd_import_areas(args: argparse.Namespace) -> int:
    _setup_django()
    from wangge.areas.services import AreaImportRefused, import_areas

    path = Path(args.file)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"无法读取 {path}：{exc}", file=sys.stderr)
        return 2
    try:
        result = import_areas(None, data, tolerance_m2=args.tolerance)
    except AreaImportRefused as refused:
        print(refused.message, file=sys.stderr)
        for problem in refused.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"导入完成：新增 {result.created}，更新 {result.updated}")
    return 0


def cmd_fusion(args: argparse.Namespace) -> int:
    if args.action == "dedupe":
        return _dedupe(args)
    _setup_django()
    from wangge.core.errors import DomainError
    from wangge.fusion.linking import link_pending
    from wangge.fusion.services import import_file
    from wangge.registry.models import Source

    update, close = _progress_bar()
    try:
        if args.action == "relink":
            run = link_pending(full=True, progress=update)
            close()
            print(f"融合完成：{run.records} 条记录，{run.clusters} 人，新建 {run.created}，合并 {run.merged}，"
                  f"待核对 {run.uncertain} 对，用时 {run.seconds:.1f} 秒")
            return 0
        source = Source.objects.filter(code=args.source).first()
        if source is None:
            known = "、".join(Source.objects.values_list("code", flat=True)) or "（无）"
            print(f"未知的数据来源：{args.source}（已有：{known}）", file=sys.stderr)
            return 2
        batch = import_file(None, source=source, kind=args.kind, path=Path(args.file), progress=update)
    except DomainError as exc:
        close()
        print(exc.message, file=sys.stderr)
        return 1
    close()
    print(f"批次 {batch.pk}：{batch.get_status_display()}；入库 {batch.rows_ok} 行，未变化 {batch.rows_unchanged} 行，"
          f"错误 {batch.rows_bad} 行。{batch.message}")
    if batch.rows_bad:
        from wangge.fusion.services import error_file_path

        print(f"错误文件：{error_file_path(batch)}")
    return 0 if batch.status == "done" else 1


def _dedupe(args: argparse.Namespace) -> int:
    from wangge.fusion.resolution import dedupe_csv

    if not args.out:
        print("请用 --out 指定输出文件", file=sys.stderr)
        return 2
    try:
        summary = dedupe_csv(Path(args.file), Path(args.out), train=args.train)
    except (OSError, ValueError) as exc:
        print(f"无法处理 {args.file}：{exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def cmd_export_areas(args: argparse.Namespace) -> int:
    _setup_django()
    from wangge.areas.services import export_areas

    text = json.dumps(export_areas(args.layer), ensure_ascii=False)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0


def cmd_locate(args: argparse.Namespace) -> int:
    _setup_django()
    from wangge.areas.selectors import grid_index
    from wangge.core.coords import coordinate_problem

    problem = coordinate_problem(args.lon, args.lat)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    hits = grid_index().locate(args.lon, args.lat, crs=args.crs)
    if not hits:
        print("库中没有网格，请先导入区域或生成演示城市。", file=sys.stderr)
        return 1
    for layer, hit in hits.items():
        if hit.inside:
            print(f"{layer}\t{hit.code}\t{hit.name}")
        elif hit.nearest_code:
            print(f"{layer}\t不在任何网格内\t最近：{hit.nearest_code} {hit.nearest_name}，"
                  f"{hit.distance_m:.0f} 米")
        else:
            print(f"{layer}\t不在任何网格内")
    return 0 if hits.get("base") and hits["base"].inside else 3


def cmd_audit(args: argparse.Namespace) -> int:
    _setup_django()
    from wangge.core import audit
    from wangge.core.models import AuditEntry

    if args.action == "head":
        print(json.dumps(audit.head(), ensure_ascii=False))
        return 0
    broken = audit.verify()
    if broken is None:
        print(f"审计链完整：共 {AuditEntry.objects.count()} 条记录。")
        return 0
    print(f"审计链在第 {broken.seq} 条处断开：{broken.reason}")
    return 1


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    from wangge.core.worker import run_worker

    run_worker(interval=args.interval, batch=args.batch)
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    _setup_django()
    from wangge.core import ticks

    results = ticks.run_all() if args.all else ticks.run_due()
    if not results:
        print("没有到期的定时任务。")
    failed = 0
    for name, result in results.items():
        if isinstance(result, Exception):
            failed += 1
            print(f"{name}\t失败：{type(result).__name__}: {result}")
        else:
            print(f"{name}\t{json.dumps(result, ensure_ascii=False, default=str)}")
    return 1 if failed else 0


def _gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "wangge.wsgi:application",
        "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", "4",
        "--worker-class", "gthread", "--access-logfile", "-", "--log-level", "warning",
        "--timeout", "120",
    ]


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_django()
    _migrate()
    _collectstatic()
    os.execv(sys.executable, _gunicorn_argv(args.host, args.port, args.workers))  # noqa: S606
    return 0  # not reached


def _granian_argv(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--host", host, "--port", str(port),
        "--workers", str(workers), "--blocking-threads", "1", "--log-level", "warning",
        "wangge.wsgi:gateway_application",
    ]


def cmd_gateway(args: argparse.Namespace) -> int:
    """The exchange gateway alone, on its own port, for other departments'
    networks: /gateway/v1/ and nothing of the site."""
    _setup_django()
    _migrate()
    os.execv(sys.executable, _granian_argv(args.host, args.port, args.workers))  # noqa: S606
    return 0  # not reached


def _print_logins(url: str) -> None:
    from wangge.demo.generator import DEMO_ACCOUNTS, DEMO_PASSWORD

    print("\n" + "=" * 64)
    print(f"  wangge 网格 已启动：{url}")
    print(f"  演示账户（密码均为 {DEMO_PASSWORD}）：")
    for username, role, scope in DEMO_ACCOUNTS:
        print(f"    {username:<12} {role:<10} {scope}")
    from wangge.accounts.models import User

    # The case demo gives every other grid a worker of its own (wangge.demo.cases).
    worker = (User.objects.filter(role="grid_worker", username__startswith="wg")
              .order_by("username").values_list("username", "area_code").first())
    if worker is not None:
        print(f"    {worker[0]:<12} {'网格员':<10} 其余每个网格一名：wg + 网格编码后 9 位（如 {worker[1]}）")
    print("  按 Ctrl+C 停止。")
    print("=" * 64 + "\n", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    print("准备数据库……", flush=True)
    _migrate()
    from wangge.demo.generator import city_exists, generate_city

    gateway_note = ""
    if not city_exists():
        print(f"生成演示城市（{args.people:,} 人，种子 {args.seed}）……", flush=True)
        update, close = _progress_bar()
        try:
            summary = generate_city(seed=args.seed, people=args.people, progress=update)
        finally:
            close()
        if summary.get("exchange", {}).get("key_id"):
            exchange = summary["exchange"]
            gateway_note = (f"  数据共享网关（民政局演示凭据，只显示这一次）：key {exchange['key_id']}"
                            f"  secret {exchange['secret']}")
    _collectstatic()
    url = f"http://{args.host}:{args.port}"
    web = subprocess.Popen(_gunicorn_argv(args.host, args.port, args.workers))  # noqa: S603
    worker = subprocess.Popen([sys.executable, "-m", "wangge.cli", "worker"])
    children = [web, worker]
    if _wait_for_http(url + "/api/v1/health", web):
        _print_logins(url)
        if gateway_note:
            print(gateway_note + "\n", flush=True)
    else:
        print("网页服务未能启动，请查看上面的错误信息。", file=sys.stderr)
        _stop(children)
        return 1
    return _supervise(children, args.exit_after)


def _wait_for_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> bool:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (our own loopback URL)
                if resp.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _stop(children: Sequence[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


def _supervise(children: Sequence[subprocess.Popen[bytes]], exit_after: float | None) -> int:
    started = time.monotonic()
    try:
        while all(c.poll() is None for c in children):
            if exit_after is not None and time.monotonic() - started > exit_after:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\n正在停止……")
    finally:
        _stop(children)
    failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
    return 1 if failed and exit_after is None else 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["wangge manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wangge", description="wangge 网格化社会治理平台")
    sub = parser.add_subparsers(dest="command", required=True)

    def server_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default=DEFAULT_HOST)
        p.add_argument("--port", type=int, default=DEFAULT_PORT)
        p.add_argument("--workers", type=int, default=2, help="web worker processes")

    p = sub.add_parser("demo", help="迁移数据库、生成演示城市（库为空时）、启动网页与后台任务")
    server_options(p)
    p.add_argument("--people", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--exit-after", type=float, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="启动网页服务")
    server_options(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("gateway", help="单独启动数据共享交换网关（/gateway/v1/，供其他部门系统调用）")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.set_defaults(func=cmd_gateway)

    p = sub.add_parser("worker", help="运行后台任务（含回收被中断的任务）")
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--batch", action="store_true", help="运行完队列中的任务后退出")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("tick", help="运行一次到期的定时任务（供 cron 使用）")
    p.add_argument("--all", action="store_true", help="不论是否到期，全部运行")
    p.set_defaults(func=cmd_tick)

    p = sub.add_parser("generate", help="生成演示城市")
    p.add_argument("--people", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--no-registry", action="store_true",
                   help="只生成区域、网格与标准地址，不生成人口库（百万人规模时省去部门数据融合）；也不生成案件")
    p.add_argument("--no-cases", action="store_true",
                   help="不模拟案件流转（默认生成 90 天的上报、派遣、处置、核查与评价）")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("cases", help="案件：load-catalog 载入案件类别目录（wangge/cases/catalog.py）")
    cases_sub = p.add_subparsers(dest="action", required=True)
    q = cases_sub.add_parser("load-catalog", help="按目录新增或更新案件类别，默认部门取该区的同类型部门")
    q.add_argument("--area", required=True, help="区级区域编码，如 120110")
    q.set_defaults(func=cmd_cases)

    p = sub.add_parser("import-areas", help="导入区域与网格 GeoJSON（全部通过校验才写入）")
    p.add_argument("file")
    p.add_argument("--tolerance", type=float, default=10.0, help="重叠与缝隙容差（平方米）")
    p.set_defaults(func=cmd_import_areas)

    p = sub.add_parser("export-areas", help="导出区域与网格 GeoJSON")
    p.add_argument("--layer", default=None)
    p.add_argument("-o", "--output", default=None)
    p.set_defaults(func=cmd_export_areas)

    p = sub.add_parser("locate", help="坐标定位到网格")
    p.add_argument("lon", type=float)
    p.add_argument("lat", type=float)
    p.add_argument("--crs", choices=["wgs84", "gcj02", "bd09"], default="wgs84")
    p.set_defaults(func=cmd_locate)

    p = sub.add_parser("audit", help="审计链：verify 校验完整性，head 导出链头")
    p.add_argument("action", choices=["verify", "head"])
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("fusion", help="数据融合：import 导入部门文件，relink 全量融合，dedupe 对 CSV 去重")
    p.add_argument("action", choices=["import", "relink", "dedupe"])
    p.add_argument("file", nargs="?", default="")
    p.add_argument("--source", default="", help="import：数据来源编码")
    p.add_argument("--kind", default="person", choices=["person", "organisation"])
    p.add_argument("--out", default="", help="dedupe：输出 record_id,cluster_id 的 CSV")
    p.add_argument("--train", action="store_true", help="dedupe：先在该文件上训练模型参数")
    p.set_defaults(func=cmd_fusion)

    p = sub.add_parser("manage", help="运行 Django 管理命令")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
