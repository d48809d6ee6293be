"""The tray agent at rest: start → icon visible, then RSS, CPU and wake-ups while nothing happens.

"At rest" is a practitioner at work who touches the mouse now and then (every 50 s here): left
untouched for minutes, the idle watch would rightly remind and lock, which is work, not rest
(bench/idle_watch.py measures that case).

Targets (issue 4): icon ≤ 1.5 s (median of 5); RSS ≤ 65 MB with the GTK backends; CPU ≤ 0.1 %;
no busy polling. Wake-ups are counted as context switches of every thread of the agent
(voluntary + involuntary, from /proc) over the idle window.

    .venv/bin/python bench/agent_resources.py [--starts 5] [--idle-minutes 5] [--backend appindicator]
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
import harness  # noqa: E402 - the same real services as the tests


def desktop(services: harness.Services, base: Path) -> dict[str, str]:
    env = harness.isolated_env(base)
    env["DISPLAY"] = harness.start_xvfb(services, env)
    harness.start_bus(services, env)
    harness.start_dunst(services, env)
    harness.start_keyring(services, env)
    harness.start_sni_tray(services, env)
    harness.start_xembed_tray(services, env)
    env["APT_CONFIG"] = subprocess.run(["bash", str(harness.SUPPORT / "make_apt_repo.sh"), str(base / "apt")],
                                       capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    return env


def icon_visible(env: dict[str, str], backend: str) -> bool:
    if backend == "appindicator":
        return harness.sni_menu(env, "title").returncode == 0
    return any(16 <= w["HEIGHT"] <= 40 for w in harness.windows_of_class(env, "vigie"))


def time_to_icon(env: dict[str, str], backend: str) -> float:
    started = time.perf_counter()
    agent = subprocess.Popen([sys.executable, "-m", "vigie"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        harness.wait_for(lambda: icon_visible(env, backend), timeout=20, what="the icon")
        return time.perf_counter() - started
    finally:
        harness.stop(agent)


def switches(process: psutil.Process) -> dict[int, int]:
    """Context switches per thread id (a thread that ends takes its count with it)."""
    counts = {}
    for thread in Path(f"/proc/{process.pid}/task").iterdir():
        try:
            lines = (thread / "status").read_text().splitlines()
        except OSError:
            continue
        counts[int(thread.name)] = sum(int(line.split()[1]) for line in lines
                                       if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))
    return counts


def idle_figures(env: dict[str, str], minutes: float) -> dict[str, float]:
    agent = subprocess.Popen([sys.executable, "-m", "vigie"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        harness.wait_for(lambda: "notification shown" in harness.vigie_log(env), timeout=30, what="first check")
        time.sleep(5)  # let start-up work settle
        process = psutil.Process(agent.pid)
        cpu0, wake0, t0 = sum(process.cpu_times()[:2]), switches(process), time.monotonic()
        while time.monotonic() - t0 < minutes * 60:
            time.sleep(min(50.0, max(0.0, minutes * 60 - (time.monotonic() - t0))))
            harness.xdo(env, "mousemove_relative", "--", "3", "3")  # the user is there
        cpu1, wake1, t1 = sum(process.cpu_times()[:2]), switches(process), time.monotonic()
        woken = sum(wake1[tid] - wake0.get(tid, 0) for tid in wake1)
        return {"rss_mb": process.memory_info().rss / 2**20, "uss_mb": process.memory_full_info().uss / 2**20,
                "cpu_percent": 100 * (cpu1 - cpu0) / (t1 - t0), "wakeups_per_min": woken / ((t1 - t0) / 60),
                "threads": len(wake1), "new_threads": len(wake1.keys() - wake0.keys())}
    finally:
        harness.stop(agent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--idle-minutes", type=float, default=5)
    parser.add_argument("--backend", choices=["appindicator", "gtk"], default="appindicator")
    args = parser.parse_args()
    services = harness.Services()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            env = dict(desktop(services, Path(tmp)), PYSTRAY_BACKEND=args.backend)
            starts = [time_to_icon(env, args.backend) for _ in range(args.starts)]
            idle = idle_figures(env, args.idle_minutes)
        finally:
            services.close()
    median = statistics.median(starts)
    print(f"backend {args.backend}: start -> icon visible, {args.starts} starts: median {median:.2f} s "
          f"(min {min(starts):.2f}, max {max(starts):.2f})  target <= 1.5 s -> {'OK' if median <= 1.5 else 'OVER'}")
    print(f"after {args.idle_minutes:g} min idle: RSS {idle['rss_mb']:.1f} MB (USS {idle['uss_mb']:.1f} MB)  "
          f"target <= 65 MB -> {'OK' if idle['rss_mb'] <= 65 else 'OVER'}")
    print(f"  CPU {idle['cpu_percent']:.3f} %  target <= 0.1 % -> {'OK' if idle['cpu_percent'] <= 0.1 else 'OVER'}")
    print(f"  wake-ups {idle['wakeups_per_min']:.1f} per minute over {idle['threads']} threads "
          f"({idle['new_threads']} started during the window)")


if __name__ == "__main__":
    main()
