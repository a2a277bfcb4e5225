"""Copy the built front-end files from node_modules into wangge/static/vendor/.

The pages load ECharts and htmx from the site's own static files, never from a
CDN. The versions are pinned in package-lock.json; run `npm ci` (or
`npm install`) first, then this script. wangge/static/vendor/ is gitignored:
no third-party code is committed. Standard library only, so it runs before any
Python dependency is installed.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "wangge" / "static" / "vendor"

# (package, file inside the package, name under static/vendor/)
FILES: tuple[tuple[str, str, str], ...] = (
    ("echarts", "dist/echarts.min.js", "echarts.min.js"),
    ("echarts", "LICENSE", "echarts.LICENSE.txt"),
    ("htmx.org", "dist/htmx.min.js", "htmx.min.js"),
    ("htmx.org", "LICENSE", "htmx.LICENSE.txt"),
)


class VendorError(Exception):
    pass


def _locked_versions() -> dict[str, str]:
    lock = ROOT / "package-lock.json"
    if not lock.exists():
        return {}
    packages = json.loads(lock.read_text(encoding="utf-8")).get("packages", {})
    return {
        path.removeprefix("node_modules/"): info.get("version", "")
        for path, info in packages.items()
        if path.startswith("node_modules/")
    }


def _installed_version(package: str) -> str:
    manifest = NODE_MODULES / package / "package.json"
    return str(json.loads(manifest.read_text(encoding="utf-8")).get("version", ""))


def copy_vendor(dest: Path = VENDOR) -> list[Path]:
    if not NODE_MODULES.is_dir():
        raise VendorError(
            f"{NODE_MODULES} does not exist. Run `npm ci` in {ROOT} first "
            "(it installs the versions pinned in package-lock.json).")
    locked = _locked_versions()
    written: list[Path] = []
    dest.mkdir(parents=True, exist_ok=True)
    for package, inner, name in FILES:
        source = NODE_MODULES / package / inner
        if not source.is_file():
            raise VendorError(
                f"{source} is missing: node_modules/{package} is absent or incomplete. "
                "Run `npm ci` again.")
        installed = _installed_version(package)
        if package in locked and locked[package] != installed:
            raise VendorError(
                f"node_modules/{package} is {installed} but package-lock.json pins "
                f"{locked[package]}. Run `npm ci` to install the pinned version.")
        target = dest / name
        shutil.copyfile(source, target)
        written.append(target)
    return written


def main() -> int:
    try:
        written = copy_vendor()
    except VendorError as exc:
        print(f"copy_vendor: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"copied {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
