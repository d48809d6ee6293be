"""Start → icon registered, Vigie on Windows (under Wine) beside Vigie on Linux, each with its floor, in one run.

Issue 17 (point 4) and issue 21: the same measure on both systems, side by side, with the loadavg.
- Linux: `python -m vigie` on Xvfb with a real SNI tray host (gtk-sni-tray) → the log's "tray visible"
  (pystray's visible = True returned); floor: a bare pystray icon on the same host, timed to its own
  "visible" line printed at the same point.
- Windows: `python.exe -m vigie run` under Wine (a private copy of the lane's cached prefix, its own
  Xvfb, Wine's shell desktop) → the log's "tray visible" (Shell_NotifyIcon NIM_ADD returned); floor: a
  bare pystray icon under the same Wine, timed to its own "visible" line.
Also under Wine: start → the first checks' state in the status snapshot (the settings child included).

    .venv/bin/python bench/wine_start.py [--starts 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
import harness  # noqa: E402 - the same real services as the tests
import wine  # noqa: E402
from agent_resources import desktop  # noqa: E402

BARE_ICON = """
import sys, pystray
from PIL import Image
def shown(icon):
    icon.visible = True
    print("visible", flush=True)
pystray.Icon("floor", Image.new("RGB", (64, 64), "orange"), "floor").run(setup=shown)
"""


def figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p95": p95, "min": ordered[0], "max": ordered[-1]}


def timed(start: Callable[[], subprocess.Popen], ready: Callable[[subprocess.Popen], bool], timeout: float) -> float:
    began = time.perf_counter()
    process = start()
    try:
        harness.wait_for(lambda: ready(process), timeout, "the icon")
        return time.perf_counter() - began
    finally:
        harness.stop(process, timeout=20)


def printed_visible(process: subprocess.Popen) -> bool:
    """The floor prints "visible" once pystray's visible = True returned (Vigie logs "tray visible" at
    the same point): the same moment measured on both sides."""
    line = process.stdout.readline()
    if not line:
        raise RuntimeError("the floor's icon process ended without showing its icon")
    return line.startswith(b"visible")


# --- Linux ---------------------------------------------------------------------------------------

def linux_runs(starts: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as base:
        services = harness.Services()
        try:
            env = desktop(services, Path(base))
            floor_script = Path(base) / "floor.py"
            floor_script.write_text(BARE_ICON, encoding="utf-8")
            floor_env = dict(env, PYSTRAY_BACKEND="appindicator")
            vigie, floor = [], []
            for _ in range(starts):
                floor.append(timed(lambda: subprocess.Popen([sys.executable, str(floor_script)], env=floor_env,
                                                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL),
                                   printed_visible, 30))
                before = len(harness.vigie_log(env))
                vigie.append(timed(lambda: subprocess.Popen([sys.executable, "-m", "vigie"], env=env,
                                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                                   lambda _p, before=before: "tray visible" in harness.vigie_log(env)[before:], 30))
            return {"vigie": vigie, "floor": floor}
        finally:
            services.close()


# --- Windows, under Wine -------------------------------------------------------------------------

def wine_runs(starts: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as base:
        running = wine.Wine(Path(base), wine.template_prefix())
        try:
            running.start_display()
            floor_script = Path(base) / "floor.py"
            floor_script.write_text(BARE_ICON, encoding="utf-8")
            running.python("-c", "import vigie", timeout=300)  # bytecode compiled once, as after an install
            vigie, floor, state = [], [], []
            for _ in range(starts):
                floor.append(timed(lambda: running.start(wine.PYTHON, wine.win_path(floor_script)),
                                   printed_visible, 300))
                vigie_start, first_state = _wine_vigie_start(running)
                vigie.append(vigie_start)
                state.append(first_state)
            return {"vigie": vigie, "floor": floor, "first state": state}
        finally:
            running.close()


def _wine_vigie_start(running: wine.Wine) -> tuple[float, float]:
    before = len(running.vigie_log())
    for snapshot in running.local_appdata.rglob("status.json"):
        snapshot.unlink()
    began = time.perf_counter()
    agent = running.start(wine.PYTHON, "-m", "vigie", "run")
    try:
        harness.wait_for(lambda: "tray visible" in running.vigie_log()[before:], 300, "Vigie's icon under Wine")
        icon = time.perf_counter() - began
        harness.wait_for(lambda: _has_state(running), 300, "the first checks' state")
        return icon, time.perf_counter() - began
    finally:
        harness.stop(agent, timeout=30)  # the wine process is the Windows process: it ends here


def _has_state(running: wine.Wine) -> bool:
    for path in running.local_appdata.rglob("status.json"):
        checks = json.loads(path.read_text(encoding="utf-8")).get("checks", [])
        return any(check.get("severity") not in (None, "unknown") for check in checks)
    return False


def report(system: str, runs: dict[str, list[float]]) -> None:
    floor = figures(runs["floor"])
    for name, samples in runs.items():
        found = figures(samples)
        ratio = "" if name == "floor" else (f"  ratio median {found['median'] / floor['median']:.2f}x, "
                                            f"p95 {found['p95'] / floor['p95']:.2f}x")
        print(f"{system:8} {name:12} median {found['median']:.2f} s  p95 {found['p95']:.2f} s  "
              f"min {found['min']:.2f}  max {found['max']:.2f}{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    print(f"loadavg before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    linux = linux_runs(args.starts)
    print(f"loadavg after Linux: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    windows = wine_runs(args.starts)
    print(f"loadavg after Wine: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    report("linux", linux)
    report("wine", windows)


if __name__ == "__main__":
    main()
