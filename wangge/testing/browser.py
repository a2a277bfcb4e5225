"""Browser fixtures for the `browser`-marked page tests of every app (a pytest
plugin named in the root conftest): Playwright's sync API driving Debian's
chromium, never a downloaded browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "wangge" / "static" / "vendor"
# Set to a directory to keep screenshots of the browser tests (development aid).
SCREENSHOT_DIR = os.environ.get("WANGGE_SCREENSHOT_DIR", "")


def _chromium() -> str:
    if not os.path.exists(CHROMIUM) and os.geteuid() == 0 and shutil.which("apt-get"):
        # Debian's package, not a Playwright download (which would be unpinned
        # and unsigned). Only as root, and only when it is absent.
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],  # noqa: S607
            check=False, capture_output=True, timeout=900,
        )
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium "
                    "(`apt-get install -y chromium`) to run the browser tests")
    return CHROMIUM


def _vendor_files() -> None:
    needed = [VENDOR / "echarts.min.js", VENDOR / "htmx.min.js"]
    if all(p.exists() for p in needed):
        return
    if (ROOT / "node_modules").is_dir():
        subprocess.run(  # noqa: S603
            [sys.executable, str(ROOT / "scripts" / "copy_vendor.py")],
            check=False, capture_output=True, timeout=60,
        )
    missing = [p.name for p in needed if not p.exists()]
    if missing:
        pytest.skip(f"front-end files missing from {VENDOR} ({', '.join(missing)}); "
                    "run `npm ci && python scripts/copy_vendor.py`")


@pytest.fixture
def page(live_server: Any, transactional_db: None) -> Iterator[Any]:
    """A fresh browser page. It depends on the live server and the database so
    that it closes before they are torn down: Playwright's sync API keeps an
    event loop on this thread, and Django refuses database calls under one."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    _vendor_files()
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 860},
                                      locale="zh-CN", base_url=live_server.url)
        # Tests block the network: anything not served by the live server fails.
        context.route(
            lambda url: not url.startswith(live_server.url),
            lambda route: route.abort(),
        )
        pg = context.new_page()
        pg.set_default_timeout(10_000)
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield pg
        finally:
            context.close()
            browser.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def login(page: Any) -> Any:
    """Log in through the login page as a persona (password "pass-<username>")."""

    def do(username: str) -> Any:
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "pass-" + username)
        with page.expect_navigation():
            page.click("button[type=submit]")
        return page

    return do


@pytest.fixture
def screenshot(page: Any) -> Any:
    def take(name: str) -> None:
        if SCREENSHOT_DIR:
            Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SCREENSHOT_DIR) / f"{name}.png"))

    return take
