"""Issue 18 point 5: what the Sun Valley look (sv-ttk, dark-mode read, DPI scaling) costs the USB pop-up,
beside a plain Tk window (the floor of issue 21's "one open pop-up USS <= 1.3x") in the same run.

Four programs take turns on one Xvfb (1366x768), each a fresh process: the floor (a plain Tk window,
bench/floors.py TK_WINDOW), the pop-up without the look (vigie.ui.look.apply_look replaced by clam, as
before issue 18), the same with the dark-mode and DPI reads (what a pop-up without sv-ttk would still
pay) and the pop-up as shipped. For each: start -> window mapped, and USS once mapped.
The source tree is compiled first (Vigie ships bytecode), as bench/ratios.py does.

    .venv/bin/python bench/look_cost.py [--rounds 8] [--dark]
"""

from __future__ import annotations

import argparse
import compileall
import json
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
from floors import TK_WINDOW, loadavg, mapped, stop, uss_mb, wait_until  # noqa: E402

POPUP = "from vigie.features.usb.window import main; raise SystemExit(main())"
POPUP_WITHOUT_LOOK = """
from tkinter import ttk
import vigie.ui.look, vigie.ui.tk_support
def clam(root, dark=None):
    ttk.Style(root).theme_use("clam")
vigie.ui.tk_support.apply_look = vigie.ui.look.apply_look = clam
from vigie.features.usb.window import main; raise SystemExit(main())
"""
POPUP_READS_ONLY = """
from tkinter import ttk
import vigie.ui.look, vigie.ui.tk_support
def reads_and_clam(root, dark=None):
    from vigie.platform import appearance
    vigie.ui.look.scale_to_screen(root, appearance.readings().wait().xft_dpi)
    ttk.Style(root).theme_use("clam")
vigie.ui.tk_support.apply_look = vigie.ui.look.apply_look = reads_and_clam
from vigie.features.usb.window import main; raise SystemExit(main())
"""
VOLUME = {"label": "CLE_JEAN", "size_bytes": 16_000_000_000, "fs_type": "vfat", "mount_point": "/media/jean/CLE",
          "device": "/dev/sdb1", "uuid": "1234-ABCD", "can_scan": True}


def measure(env: dict[str, str], code: str, args: list[str], classname: str) -> tuple[float, float]:
    """Seconds from start to mapped, then the USS (MB) once mapped and settled."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: mapped(env, classname), 20, classname)
        latency = time.monotonic() - started
        time.sleep(0.5)
        return latency, uss_mb(process.pid)[0]
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--dark", action="store_true", help="the desktop in dark mode")
    args = parser.parse_args()
    assert compileall.compile_dir(ROOT / "agent" / "vigie", quiet=1)
    services = harness.Services()
    results: dict[str, list[tuple[float, float]]] = {"floor": [], "before": [], "reads": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            env = harness.isolated_env(Path(tmp))
            env["DISPLAY"] = harness.start_xvfb(services, env, "1366x768x24", dpi=96)
            env = harness.desktop_colour_scheme(env, "prefer-dark" if args.dark else "prefer-light")
            volume = Path(tmp) / "volume.json"
            volume.write_text(json.dumps(VOLUME), encoding="utf-8")
            popup_args = ["--volume", str(volume), "--lang", "fr"]
            for _ in range(args.rounds):
                results["floor"].append(measure(env, TK_WINDOW, [], "vigie-floor-tk"))
                results["before"].append(measure(env, POPUP_WITHOUT_LOOK, popup_args, "vigie-usb"))
                results["reads"].append(measure(env, POPUP_READS_ONLY, popup_args, "vigie-usb"))
                results["after"].append(measure(env, POPUP, popup_args, "vigie-usb"))
        finally:
            services.close()
    print(f"{args.rounds} rounds, {'dark' if args.dark else 'light'} desktop, loadavg at end {loadavg()}")
    medians = {name: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
               for name, rows in results.items()}
    floor_latency, floor_uss = medians["floor"]
    for name, label in (("floor", "plain Tk window"), ("before", "USB pop-up, clam (before)"),
                        ("reads", "USB pop-up, clam + OS reads"), ("after", "USB pop-up, Sun Valley (after)")):
        latency, uss = medians[name]
        print(f"{label:32} start->mapped median {latency * 1000:5.0f} ms ({latency / floor_latency:.2f}x floor)  "
              f"USS median {uss:5.1f} MB ({uss / floor_uss:.2f}x floor; target <= 1.3x)")
    print(f"the look costs the pop-up {medians['after'][1] - medians['before'][1]:+.1f} MB USS and "
          f"{(medians['after'][0] - medians['before'][0]) * 1000:+.0f} ms to map")


if __name__ == "__main__":
    main()
