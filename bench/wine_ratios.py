"""Issue 21's rows for Windows (under Wine) beside Linux, each with its floor, in one run.

Issue 17 (point 4) and issue 21: the same measures on both systems, side by side, with the loadavg.
- Linux: `python -m vigie` on Xvfb with a real SNI tray host (gtk-sni-tray) → the log's "tray visible"
  (pystray's visible = True returned); floor: a bare pystray icon on the same host, timed to its own
  "visible" line printed at the same point.
- Windows: `python.exe -m vigie run` under Wine (a private copy of the lane's cached prefix, its own
  Xvfb, Wine's shell desktop) → the log's "tray visible" (Shell_NotifyIcon NIM_ADD returned); floor: a
  bare pystray icon under the same Wine, timed to its own "visible" line.
Also under Wine: start → the first checks' state in the status snapshot (the settings child included);
the resting agent's USS beside a bare pystray icon's (both Windows processes under the same Wine, read
from Linux: Wine's own libraries are in both, so the ratio, not the MB, carries over to Windows); the
USB pop-up, from the agent starting its child (its log line, on a WM_DEVICECHANGE arrival: drive letters
from R: on, as tests/windows/devchange.py makes them) to the window mapped on X, beside a fresh
Windows Python + Tk window started the same way (from a running Windows Python, Popen, to mapped), and
one open pop-up's USS beside that plain Tk window's. Linux's own pop-up and memory rows: bench/ratios.py.
--bundle: Vigie as installed on Windows, the PyInstaller bundle (vigie.exe, its modules in one archive;
built by installer/windows/build.sh, cached like the lane's installer) instead of the source tree through
Windows' Python; the floors stay plain Windows Python.

    .venv/bin/python bench/wine_ratios.py [--starts 5] [--popups 5] [--bundle]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
import harness  # noqa: E402 - the same real services as the tests
import wine  # noqa: E402
from agent_resources import desktop  # noqa: E402
from floors import uss_mb  # noqa: E402

DEVCHANGE = ROOT / "tests" / "windows" / "devchange.py"
POPUP_TITLE = "Nouveau support USB"
SETTLE = 20.0  # s at rest before a USS is read
AGENT = [wine.PYTHON, "-m", "vigie", "run"]  # --bundle: the bundle's vigie.exe run
AGENT_MARKER = "vigie run"  # how the agent's Windows process is found by its command line
# A running Windows Python starts a fresh Python + Tk window on each line read, and prints the wall time
# of its Popen: the floor of Vigie's pop-up child, started the same way by the running agent.
TK_LAUNCHER = f"""
import subprocess, sys, time
WINDOW = ("import tkinter as tk; r = tk.Tk(); r.title('{POPUP_TITLE} floor'); "
          "tk.Label(r, text='x').pack(padx=40, pady=40); r.mainloop()")
print("ready", flush=True)
for line in sys.stdin:
    spawned = time.time()
    subprocess.Popen([sys.executable, "-c", WINDOW])
    print(spawned, flush=True)
"""

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

@contextlib.contextmanager
def wine_desktop() -> Iterator[tuple[wine.Wine, Path]]:
    """A private copy of the lane's prefix on its own display, Vigie compiled once (as after an install),
    and the bare icon's script: (the running Wine, the script)."""
    with tempfile.TemporaryDirectory() as base:
        running = wine.Wine(Path(base), wine.template_prefix())
        try:
            running.start_display()
            floor_script = Path(base) / "floor.py"
            floor_script.write_text(BARE_ICON, encoding="utf-8")
            running.python("-c", "import vigie", timeout=300)
            yield running, floor_script
        finally:
            running.close()


def wine_runs(starts: int) -> dict[str, list[float]]:
    with wine_desktop() as (running, floor_script):
        vigie, floor, state = [], [], []
        for _ in range(starts):
            floor.append(timed(lambda: running.start(wine.PYTHON, wine.win_path(floor_script)), printed_visible, 300))
            vigie_start, first_state = _wine_vigie_start(running)
            vigie.append(vigie_start)
            state.append(first_state)
        return {"vigie": vigie, "floor": floor, "first state": state}


def wine_resources(popups: int) -> dict[str, list[float]]:
    """Resting USS (Vigie, bare icon) and the pop-up rows, on one fresh Wine prefix copy."""
    with wine_desktop() as (running, floor_script):
        icon = running.start(wine.PYTHON, wine.win_path(floor_script))
        try:
            harness.wait_for(lambda: printed_visible(icon), 300, "the bare icon")
            time.sleep(SETTLE)
            out = {"floor uss": [_windows_process_uss("floor.py")]}
        finally:
            harness.stop(icon, timeout=20)
        agent = running.start(*AGENT)
        try:
            harness.wait_for(lambda: _has_state(running), 300, "the first checks' state")
            time.sleep(SETTLE)
            out["vigie uss"] = [_windows_process_uss(AGENT_MARKER)]
            out.update(_popups(running, floor_script.parent, popups))
        finally:
            harness.stop(agent, timeout=30)
        out.update(_floor_windows(running, floor_script.parent, popups))
        return out


def _visible_windows(running: wine.Wine, title: str) -> int:
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title], env=running.env,
                           capture_output=True, text=True, timeout=30)
    return len(found.stdout.split())


def _one_more_mapped(running: wine.Wine, title: str, shown: int, timeout: float = 120) -> float:
    """time.time() once more windows titled `title` are mapped than `shown` (polled as fast as xdotool goes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _visible_windows(running, title) > shown:
            return time.time()
        time.sleep(0.005)
    raise TimeoutError(f"no new window {title!r} within {timeout} s")


# Not Z: it is Wine's Unix root, through which the prefix reaches Vigie's source tree (the editable
# install) and every Linux path: a stick there, and the next Windows Python could not import vigie.
LETTERS = "RSTUVWXY"


def _popups(running: wine.Wine, base: Path, count: int) -> dict[str, list[float]]:
    """Each arrival (a new letter: Wine cannot take a drive away) opens one more pop-up."""
    latency, uss = [], []
    for index in range(count):
        stick = base / f"stick{index}"
        stick.mkdir()
        before = len(running.vigie_log())
        shown = _visible_windows(running, POPUP_TITLE)
        sent = running.python(wine.win_path(DEVCHANGE), "arrive", LETTERS[index], str(stick), timeout=300)
        assert sent.returncode == 0, sent.stderr
        try:
            mapped_at = _one_more_mapped(running, POPUP_TITLE, shown)
        except TimeoutError:
            print(f"pop-up {index + 1}: Vigie's log since the arrival:\n{running.vigie_log()[before:][-3000:]}")
            raise
        latency.append(mapped_at - _logged_at(running.vigie_log()[before:], "pop-up for a new volume"))
        time.sleep(1.0)
        uss.extend(uss_mb(p.pid)[0] for p in _processes_with("ui usb")[-1:])
    return {"vigie popup": latency, "vigie popup uss": uss}


def _floor_windows(running: wine.Wine, base: Path, count: int) -> dict[str, list[float]]:
    launcher_script = base / "launcher.py"
    launcher_script.write_text(TK_LAUNCHER, encoding="utf-8")
    launcher = running.services.start(["wine", wine.PYTHON, wine.win_path(launcher_script)], running.env,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    latency, uss = [], []
    try:
        assert launcher.stdout.readline().startswith(b"ready")
        for _ in range(count):
            shown = _visible_windows(running, f"{POPUP_TITLE} floor")
            launcher.stdin.write(b"open\n")
            launcher.stdin.flush()
            spawned = float(launcher.stdout.readline())
            latency.append(_one_more_mapped(running, f"{POPUP_TITLE} floor", shown) - spawned)
            time.sleep(1.0)
            uss.extend(uss_mb(p.pid)[0] for p in _processes_with("tkinter")[-1:])
    finally:
        for process in _processes_with("tkinter"):
            process.terminate()
        harness.stop(launcher, timeout=20)
    return {"floor popup": latency, "floor popup uss": uss}


def _windows_process_uss(text: str) -> float:
    """The `wine` process started from Linux is not the Windows process: that one is found by the command
    line Wine gives it."""
    found = _processes_with(text)
    assert len(found) == 1, [p.info["cmdline"] for p in found]
    return uss_mb(found[0].pid)[0]


def _processes_with(text: str) -> list[psutil.Process]:
    """Windows processes under Wine, by the command line Wine gives them; oldest first."""
    found = []
    for process in psutil.process_iter(["cmdline", "create_time"]):
        if text in " ".join(process.info["cmdline"] or ()):
            found.append(process)
    return sorted(found, key=lambda p: p.info["create_time"])


def _logged_at(log: str, text: str) -> float:
    line = next(line for line in log.splitlines() if text in line)
    return datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _wine_vigie_start(running: wine.Wine) -> tuple[float, float]:
    before = len(running.vigie_log())
    for snapshot in running.local_appdata.rglob("status.json"):
        snapshot.unlink()
    began = time.perf_counter()
    agent = running.start(*AGENT)
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


def ratio_row(name: str, vigie: list[float], floor: list[float], unit: str, scale: float) -> None:
    found, base = figures(vigie), figures(floor)
    print(f"wine     {name:28} Vigie median {found['median'] * scale:.1f} {unit} p95 {found['p95'] * scale:.1f}  "
          f"floor median {base['median'] * scale:.1f} p95 {base['p95'] * scale:.1f}  ratio median "
          f"{found['median'] / base['median']:.2f}x p95 {found['p95'] / base['p95']:.2f}x (n={len(vigie)})")


def report(system: str, runs: dict[str, list[float]]) -> None:
    floor = figures(runs["floor"])
    for name, samples in runs.items():
        found = figures(samples)
        ratio = "" if name == "floor" else (f"  ratio median {found['median'] / floor['median']:.2f}x, "
                                            f"p95 {found['p95'] / floor['p95']:.2f}x")
        print(f"{system:8} {name:12} median {found['median']:.2f} s  p95 {found['p95']:.2f} s  "
              f"min {found['min']:.2f}  max {found['max']:.2f}{ratio}")


def use_the_bundle() -> None:
    """The agent (and so its pop-ups) from the bundle of these sources, built now if not cached."""
    global AGENT, AGENT_MARKER
    exe = wine.installer().parent / "vigie" / "vigie.exe"
    AGENT, AGENT_MARKER = [wine.win_path(exe), "run"], "vigie.exe run"
    print(f"Vigie from its bundle: {exe}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--popups", type=int, default=5, choices=range(1, len(LETTERS) + 1), metavar="1-8")
    parser.add_argument("--bundle", action="store_true", help="Vigie as installed: the PyInstaller bundle")
    args = parser.parse_args()
    if args.bundle:
        use_the_bundle()
    print(f"loadavg before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    linux = linux_runs(args.starts)
    print(f"loadavg after Linux: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    windows = wine_runs(args.starts)
    print(f"loadavg after Wine starts: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    resources = wine_resources(args.popups)
    print(f"loadavg after Wine resources: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    report("linux", linux)
    report("wine", windows)
    ratio_row("resting agent USS", resources["vigie uss"], resources["floor uss"], "MB", 1)
    ratio_row("pop-up started -> mapped", resources["vigie popup"], resources["floor popup"], "ms", 1000)
    ratio_row("one open pop-up USS", resources["vigie popup uss"], resources["floor popup uss"], "MB", 1)


if __name__ == "__main__":
    main()
