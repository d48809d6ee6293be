"""USB warning: latency from `mount` returning to the pop-up window being mapped, over N insertions,
and the volume watcher's wake-ups while no device changes.

Targets (issue 7): p95 ≤ 0.5 s over 20 insertions; zero wake-ups from the detector while idle.
Needs root (loop devices, mounts), like the tests.

    .venv/bin/python bench/usb_popup.py [--insertions 20] [--idle-seconds 60]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
import harness  # noqa: E402 - the same real services as the tests
from agent_resources import desktop, switches  # noqa: E402
from conftest import Stick  # noqa: E402


def popup_mapped(env: dict[str, str]) -> bool:
    return bool(harness.xdo(env, "search", "--onlyvisible", "--classname", "vigie-usb").split())


def latencies(env: dict[str, str], stick: Stick, count: int) -> list[float]:
    results = []
    for _ in range(count):
        subprocess.run(["mount", stick.device, str(stick.mount_point)], check=True)
        returned = time.monotonic()
        harness.wait_for(lambda: popup_mapped(env), timeout=10, what="the pop-up")
        results.append(time.monotonic() - returned)
        stick.umount()
        harness.wait_for(lambda: not popup_mapped(env), timeout=10, what="the pop-up to close")
    return results


def watcher_thread_wakeups(agent: psutil.Process, seconds: float) -> int:
    """Context switches of the thread blocked in poll() on /proc/self/mountinfo, over the window."""
    before = switches(agent)
    time.sleep(seconds)
    after = switches(agent)
    return sum(after[t] - before.get(t, 0) for t in after)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--insertions", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=60)
    args = parser.parse_args()
    services = harness.Services()
    with tempfile.TemporaryDirectory() as tmp:
        stick = None
        agent = None
        try:
            env = dict(desktop(services, Path(tmp)), PYSTRAY_BACKEND="appindicator")
            (Path(tmp) / "stick").mkdir()
            stick = Stick(Path(tmp) / "stick", "BENCH")
            agent = subprocess.Popen([sys.executable, "-m", "vigie"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            harness.wait_for(lambda: "volume watch: started" in harness.vigie_log(env), timeout=30, what="agent")
            time.sleep(3)
            idle = watcher_thread_wakeups(psutil.Process(agent.pid), args.idle_seconds)
            measured = latencies(env, stick, args.insertions)
        finally:
            if agent:
                harness.stop(agent)
            if stick:
                stick.remove()
            services.close()
    measured.sort()
    p95 = measured[max(0, round(0.95 * len(measured)) - 1)]
    print(f"mount -> pop-up mapped, {args.insertions} insertions: median {statistics.median(measured):.3f} s, "
          f"p95 {p95:.3f} s, max {measured[-1]:.3f} s  target p95 <= 0.5 s -> {'OK' if p95 <= 0.5 else 'OVER'}")
    print(f"agent context switches while no device changes ({args.idle_seconds:g} s, all threads): {idle}")


if __name__ == "__main__":
    main()
