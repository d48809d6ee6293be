"""The shipped Linux package: bundle size, .deb size, and start → icon visible from the installed .deb.

Builds the bundle and the .deb from this checkout (xz, as released; or reuses --bundle/--deb),
installs the .deb on this machine (root; purged at the end), then starts /usr/bin/vigie on a real
desktop (Xvfb, session bus, gnome-keyring, SNI host, dunst) N times. "Icon visible" is the moment
the StatusNotifierWatcher lists Vigie's item, i.e. the SNI host can draw it; the agent's own
"tray visible" log line is reported too.

Targets (issue 9): start → icon ≤ 2.5 s (median of 5); sizes reported.

    .venv/bin/python bench/package.py [--starts 5] [--compress xz|zstd|gzip] [--bundle DIR --deb FILE]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
import harness  # noqa: E402 - the same real services as the tests
from agent_resources import desktop  # noqa: E402
from support import packages  # noqa: E402

TARGET_SECONDS = 2.5


def one_start(env: dict[str, str]) -> tuple[float, float]:
    """Seconds from exec to the watcher listing the item, and to the agent's "tray visible" line."""
    log = Path(env["XDG_STATE_HOME"]) / "Vigie" / "log" / "vigie.log"
    lines_before = log.read_text().count("tray visible") if log.exists() else 0
    started = time.perf_counter()
    agent = subprocess.Popen([packages.meta.LINUX_COMMAND], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    registered = logged = None
    try:
        deadline = started + 30
        while (registered is None or logged is None) and time.perf_counter() < deadline:
            if registered is None and harness.sni_items(env):
                registered = time.perf_counter() - started
            if logged is None and log.exists() and log.read_text().count("tray visible") > lines_before:
                logged = time.perf_counter() - started
            time.sleep(0.01)
        if registered is None or logged is None:
            raise TimeoutError("the icon did not show within 30 s")
        return registered, logged
    finally:
        harness.stop(agent)
        harness.wait_for(lambda: not harness.sni_items(env), what="the item gone from the watcher")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--compress", default="xz", help="the .deb's compression (xz: what is released)")
    parser.add_argument("--bundle", type=Path, help="an existing onedir bundle (with --deb)")
    parser.add_argument("--deb", type=Path, help="an existing .deb (with --bundle)")
    args = parser.parse_args()
    reason = packages.can_install()
    if reason:
        raise SystemExit(f"cannot install the .deb here: {reason}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.bundle and args.deb:
            bundle, deb = args.bundle, args.deb
        else:
            built = packages.build(Path(tmp) / "build", compress=args.compress)
            bundle, deb = built.bundle, built.deb
            print(f"build: bundle {built.bundle_seconds:.1f} s, .deb ({args.compress}) {built.deb_seconds:.1f} s")
        bundle_mb = int(subprocess.run(["du", "-sk", str(bundle)], capture_output=True, text=True,
                                       check=True).stdout.split()[0]) / 1024
        print(f"bundle (du of the onedir): {bundle_mb:.1f} MB; .deb: {deb.stat().st_size / 2**20:.1f} MB ({deb.name})")
        services = harness.Services()
        try:
            env = desktop(services, Path(tmp) / "desktop")
            with packages.installed(deb):
                installed_mb = int(packages.dpkg("-f", str(deb), "Installed-Size").stdout) / 1024
                print(f"installed size: {installed_mb:.1f} MB")
                runs = [one_start(env) for _ in range(args.starts)]
        finally:
            services.close()
    shown = [r[0] for r in runs]
    logged = [r[1] for r in runs]
    median = statistics.median(shown)
    print(f"start -> icon visible (SNI item registered), {args.starts} starts from the installed .deb: "
          f"median {median:.2f} s (min {min(shown):.2f}, max {max(shown):.2f})  target <= {TARGET_SECONDS} s -> "
          f"{'OK' if median <= TARGET_SECONDS else 'OVER'}")
    print(f"  agent's 'tray visible' log line: median {statistics.median(logged):.2f} s "
          f"(min {min(logged):.2f}, max {max(logged):.2f})")
    print(f"  package left installed: {'yes' if packages.status() else 'no'}")


if __name__ == "__main__":
    main()
