"""Issue 21: each row of the issue's table measured beside its floor (bench/floors.py) in the same run,
on the same desktop (Xvfb, private D-Bus, dunst, gnome-keyring, gtk-sni-tray), and the ratio printed
with median, p95, min, max and the load average. Vigie and its floor take turns (rounds), so that
a load that comes and goes weighs on both.

Rows: start → icon registered (bare pystray); resting agent USS (bare pystray); USB mount → pop-up
mapped (poll() on mountinfo + a fresh Python/Tk window; and, for the choice, a Tk window kept ready
in a running process, with what keeping it costs); USS of one open pop-up (a plain Tk window).
Vigie runs from bytecode, as installed (the PyInstaller bundle, hence the .deb and the Windows setup,
carries .pyc only): the source tree is compiled first. The tests and this machine's shells set
PYTHONDONTWRITEBYTECODE=1, so a source checkout would otherwise compile every module at every start,
which costs Vigie, not its floors (pystray, Pillow and Tk come compiled): about 4 MB of USS for
platform/parsers.py alone, and 100 ms of imports for the pop-up. --from-source measures that state.

Needs root (loop device, mounts); run it in a private mount namespace so that other mounts on the
machine do not wake the watchers:

    unshare -m --propagation private .venv/bin/python bench/ratios.py [--starts 5] [--insertions 20]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
import harness  # noqa: E402 - the same real services as the tests
from agent_resources import desktop  # noqa: E402
from conftest import Stick  # noqa: E402
from floors import (  # noqa: E402
    FLOOR_FRESH_WATCH,
    FLOOR_PYSTRAY,
    FLOOR_READY_WINDOW,
    TK_WINDOW,
    figures,
    loadavg,
    mapped,
    python,
    start_to_icon,
    stop,
    uss_mb,
    wait_until,
)

VIGIE = [sys.executable, "-m", "vigie"]
FLOOR_TRAY = [sys.executable, "-c", FLOOR_PYSTRAY]


class Log:
    """Vigie's log from a given point: each agent of the run writes to the same file."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.start = env, len(harness.vigie_log(env))

    def has(self, text: str) -> bool:
        return text in harness.vigie_log(self.env)[self.start:]


def start_rows(env: dict[str, str], starts: int) -> tuple[list[float], list[float]]:
    vigie, floor = [], []
    for _ in range(starts):
        seconds, process = start_to_icon(env, VIGIE)
        stop(process)
        vigie.append(seconds)
        seconds, process = start_to_icon(env, FLOOR_TRAY)
        stop(process)
        floor.append(seconds)
    return vigie, floor


def resting_uss(env: dict[str, str], argv: list[str], settle: float, ready: Callable[[Log], bool]) -> list[float]:
    log = Log(env)
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: ready(log), 120, "the start to settle", pause=0.2)
        time.sleep(settle)
        samples = []
        for _ in range(3):
            samples.append(uss_mb(process.pid)[0])
            time.sleep(2)
        return samples
    finally:
        stop(process)


def insert(env: dict[str, str], stick: Stick, classname: str, wall: list[float] | None = None) -> float:
    subprocess.run(["mount", stick.device, str(stick.mount_point)], check=True)
    returned = time.monotonic()
    if wall is not None:
        wall.append(time.time())
    wait_until(lambda: mapped(env, classname), 15, f"the {classname} window")
    return time.monotonic() - returned


def opened_at(env: dict[str, str], count: int) -> list[float]:
    """Wall-clock times of the last `count` « window usb… opened » lines of Vigie's log (ms resolution)."""
    from datetime import datetime

    lines = [line for line in harness.vigie_log(env).splitlines() if "window usb:" in line and " opened " in line]
    return [datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp() for line in lines[-count:]]


def remove(env: dict[str, str], stick: Stick, classname: str) -> None:
    stick.umount()
    wait_until(lambda: not mapped(env, classname), 15, f"the {classname} window to go")


def window_child(parent: int, marker: str) -> psutil.Process | None:
    for child in psutil.Process(parent).children(recursive=True):
        try:
            if marker in " ".join(child.cmdline()):
                return child
        except psutil.Error:
            continue
    return None


def vigie_usb_round(env: dict[str, str], stick: Stick, count: int, out: dict[str, list[float]]) -> None:
    log = Log(env)
    agent = subprocess.Popen(VIGIE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: log.has("volume watch: started") and log.has("check=os_updates"), 60, "the agent",
                   pause=0.2)
        time.sleep(3)
        mounted: list[float] = []
        for n in range(count):
            out["vigie"].append(insert(env, stick, "vigie-usb", mounted))
            if n == 0:
                time.sleep(1)  # the window drawn and idle
                child = window_child(agent.pid, "ui usb")
                if child is not None:
                    out["vigie_popup_uss"].append(child.memory_full_info().uss / 2**20)
            remove(env, stick, "vigie-usb")
        out["vigie_agent_uss_after"].append(uss_mb(agent.pid)[0])
        out["vigie_agent_part"] += [max(0.0, o - m) for m, o in zip(mounted, opened_at(env, count), strict=False)]
    finally:
        stop(agent)


def floor_fresh_round(env: dict[str, str], stick: Stick, count: int, out: dict[str, list[float]]) -> None:
    watcher = python(FLOOR_FRESH_WATCH, str(stick.mount_point), TK_WINDOW, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout.readline().strip() == "ready"
        for n in range(count):
            out["fresh"].append(insert(env, stick, "vigie-floor-tk"))
            if n == 0:
                time.sleep(1)
                child = window_child(watcher.pid, "tkinter")
                if child is not None:
                    out["tk_uss"].append(child.memory_full_info().uss / 2**20)
            remove(env, stick, "vigie-floor-tk")
    finally:
        stop(watcher)


def floor_ready_round(env: dict[str, str], stick: Stick, count: int, out: dict[str, list[float]]) -> None:
    window = python(FLOOR_READY_WINDOW, str(stick.mount_point), env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert window.stdout.readline().strip() == "ready"
        out["ready_resident_uss"].append(uss_mb(window.pid)[0])
        for _ in range(count):
            out["ready"].append(insert(env, stick, "vigie-floor-ready"))
            remove(env, stick, "vigie-floor-ready")
    finally:
        stop(window)


def row(name: str, vigie: list[float], floor: list[float], unit: str, scale: float, target: str,
        bound: float | None, use_p95: float | None = None) -> None:
    v, f = figures(vigie), figures(floor)
    ratio, ratio_p95 = v["median"] / f["median"], v["p95"] / f["p95"]

    def show(x: dict[str, float]) -> str:
        return (f"median {x['median'] * scale:.1f} p95 {x['p95'] * scale:.1f} min {x['min'] * scale:.1f} "
                f"max {x['max'] * scale:.1f} {unit} (n={x['n']})")

    verdicts = []
    if bound is not None:
        verdicts.append(f"median {'MET' if ratio <= bound else 'MISSED'}")
    if use_p95 is not None:
        verdicts.append(f"p95 {'MET' if ratio_p95 <= use_p95 else 'MISSED'}")
    print(f"{name}\n  Vigie: {show(v)}\n  floor: {show(f)}\n  ratio median {ratio:.2f}x, p95 {ratio_p95:.2f}x, "
          f"min {v['min'] / f['min']:.2f}x, max {v['max'] / f['max']:.2f}x  target {target} -> {', '.join(verdicts)}",
          flush=True)


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("needs root: a loop device and mounts")
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--insertions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--settle", type=float, default=20,
                        help="seconds at rest before the USS is read (Vigie: after its start-up trim, 60 s in)")
    parser.add_argument("--from-source", action="store_true", help="do not compile the source tree first")
    args = parser.parse_args()
    if not args.from_source:
        assert compileall.compile_dir(ROOT / "agent" / "vigie", quiet=1)
    services = harness.Services()
    with tempfile.TemporaryDirectory() as tmp:
        stick = None
        try:
            env = dict(desktop(services, Path(tmp)), PYSTRAY_BACKEND="appindicator")
            (Path(tmp) / "stick").mkdir()
            stick = Stick(Path(tmp) / "stick", "BENCH")
            print(f"issue 21 ratios ({'source tree, no bytecode' if args.from_source else 'bytecode, as installed'}), "
                  f"loadavg at start {loadavg()}", flush=True)
            starts = start_rows(env, args.starts)
            rest_vigie = resting_uss(env, VIGIE, args.settle,
                                     lambda log: log.has("check=os_updates") and log.has("memory after start-up"))
            rest_floor = resting_uss(env, FLOOR_TRAY, args.settle, lambda log: True)
            usb: dict[str, list[float]] = {k: [] for k in ("vigie", "fresh", "ready", "vigie_popup_uss", "tk_uss",
                                                           "ready_resident_uss", "vigie_agent_uss_after",
                                                           "vigie_agent_part")}
            per_round = max(1, args.insertions // args.rounds)
            for _ in range(args.rounds):
                vigie_usb_round(env, stick, per_round, usb)
                floor_fresh_round(env, stick, per_round, usb)
                floor_ready_round(env, stick, per_round, usb)
        finally:
            if stick:
                stick.remove()
            services.close()
    print(f"loadavg at end {loadavg()}")
    row("start -> icon registered", *starts, "ms", 1000, "<= 2x bare pystray", 2.0)
    row("resting agent USS", rest_vigie, rest_floor, "MB", 1, "<= 1.3x bare pystray", 1.3)
    row("USB mount -> pop-up mapped (floor: poll() + fresh Python/Tk)", usb["vigie"], usb["fresh"], "ms", 1000,
        "median <= 1.5x, p95 <= 2x", 1.5, 2.0)
    row("USB mount -> pop-up mapped (floor: Tk window kept ready in a running process)", usb["vigie"], usb["ready"],
        "ms", 1000, "(for the choice)", None)
    row("one open USB pop-up USS (floor: plain Tk window)", usb["vigie_popup_uss"], usb["tk_uss"], "MB", 1,
        "<= 1.3x", 1.3)
    part = figures(usb["vigie_agent_part"]) if usb["vigie_agent_part"] else None
    if part:
        print(f"of Vigie's pop-up latency, mount -> child started (agent side, log ms): "
              f"median {part['median'] * 1000:.0f} ms, max {part['max'] * 1000:.0f} ms; the rest is the child process")
    print(f"a window kept ready would stay resident: USS median {statistics.median(usb['ready_resident_uss']):.1f} MB "
          f"(n={len(usb['ready_resident_uss'])}); agent USS after its insertions: "
          f"{', '.join(f'{x:.1f}' for x in usb['vigie_agent_uss_after'])} MB")


if __name__ == "__main__":
    main()
