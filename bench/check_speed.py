"""Time `vigie check --json` on the private apt repository: median of N runs and peak RSS.

Targets (issue 3): median ≤ 1.0 s, peak RSS ≤ 40 MB. Vigie runs with a real gnome-keyring on a
private session bus, as on a practice PC. Ratios put the figures in context: Vigie against a
bare interpreter start and against the `apt-get -s upgrade` it wraps.

    .venv/bin/python bench/check_speed.py [--runs 10]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import harness  # noqa: E402 - the same real services as the tests


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process, from its own rusage."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1, 2, 3):
        raise RuntimeError(f"{argv} exited with {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def series(argv: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    measure(argv, env)  # warm the file cache once
    samples = [measure(argv, env) for _ in range(runs)]
    times = [t for t, _ in samples]
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "peak_rss_mb": max(r for _, r in samples)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    services = harness.Services()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            env = harness.isolated_env(Path(tmp))
            harness.start_bus(services, env)
            harness.start_keyring(services, env)
            env["APT_CONFIG"] = subprocess.run(
                ["bash", str(harness.SUPPORT / "make_apt_repo.sh"), f"{tmp}/apt"], capture_output=True, text=True,
                check=True, timeout=120).stdout.strip().splitlines()[-1]
            check = json.loads(harness.run_vigie(env, "check", "--json").stdout)
            facts = next(c["facts"] for c in check["checks"] if c["id"] == "os_updates")
            vigie = series([sys.executable, "-m", "vigie", "check", "--json"], env, args.runs)
            bare = series([sys.executable, "-c", "pass"], env, args.runs)
            apt = series(["apt-get", "-s", "-o", "Debug::NoLocking=true", "upgrade"], env, args.runs)
        finally:
            services.close()
    print(f"vigie check --json, {args.runs} runs (private apt repository: {facts['pending']} pending, "
          f"{facts['security']} security; real gnome-keyring)")
    print(f"  median {vigie['median_s']:.3f} s (min {vigie['min_s']:.3f}, max {vigie['max_s']:.3f})  "
          f"target <= 1.0 s  -> {'OK' if vigie['median_s'] <= 1.0 else 'OVER'}")
    print(f"  peak RSS {vigie['peak_rss_mb']:.1f} MB  target <= 40 MB  -> "
          f"{'OK' if vigie['peak_rss_mb'] <= 40 else 'OVER'}")
    print(f"  bare python start: median {bare['median_s']:.3f} s, {bare['peak_rss_mb']:.1f} MB"
          f"  (vigie / bare = {vigie['median_s'] / bare['median_s']:.1f}x)")
    print(f"  apt-get -s upgrade alone: median {apt['median_s']:.3f} s"
          f"  (vigie / apt = {vigie['median_s'] / apt['median_s']:.1f}x)")


if __name__ == "__main__":
    main()
