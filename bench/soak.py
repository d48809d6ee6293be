"""Soak under hostile input (issue 15): is anything filled, leaked or forgotten after N minutes?

On the real test desktop (Xvfb, private D-Bus, dunst, gnome-keyring, SNI tray, i3lock) the real
agent runs while, at once:
- a USB stick (loop device, ext4) is plugged in and pulled out every 10 s;
- « Tester ma sauvegarde » is clicked in the tray menu every 2 minutes, on an enrolled backup that
  holds a symlink to /dev/zero, a character device node (mknod c 1 5), a FIFO and a file whose name
  is not valid UTF-8, beside ordinary files;
- nobody touches the mouse, so the idle watch reminds and locks; the "user" unlocks (ends i3lock),
  moves the mouse once and leaves again.

Every 30 s it samples the agent (RSS, USS, threads, fds, children) and the disk use of Vigie's
folders; at the end it stops the agent and counts what was left behind.

Pass when: Vigie's folders stay bounded (≤ 16 MiB; the special files alone would fill GBs),
no process of the session outlives the agent, the journal holds one usb_inserted and one
usb_removed row per mount change, every drill is journaled, and RSS grows by ≤ 2 MB between the
2-minute mark and the end. Needs root (loop devices, mounts, mknod), like the tests.

--issue21 (issue 21, long run): a USB insertion every 30 s and a remind → lock → unlock cycle about
every 3 minutes (no drills); USS, anonymous memory, threads, fds and zombies printed every 5 minutes, and
the slopes per hour (least squares) after the first 10 minutes. Target: ≤ 0.5 MB/h. USS also moves when
another process stops sharing a library's pages with the agent (a test run ending): the anonymous memory
(smaps_rollup) does not, and is what a leak grows.

    .venv/bin/python bench/soak.py [--minutes 20]
    unshare -m --propagation private .venv/bin/python bench/soak.py --issue21 --minutes 120
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
import harness  # noqa: E402 - the same real services as the tests
from agent_resources import desktop  # noqa: E402
from conftest import Stick  # noqa: E402

STICK = "CLE USB"
REMIND, LOCK = 20, 40  # idle seconds: one remind → lock → unlock cycle a minute or so
DISK_BOUND = 16 * 2**20
RSS_GROWTH_BOUND = 2 * 2**20


def hostile_backup(drive: Path, originals: Path) -> Path:
    """A backup folder with ordinary files and the special ones a drill must never read."""
    backup = drive / "backup"
    for folder in (backup, originals):
        folder.mkdir(parents=True, exist_ok=True)
    for n in range(8):
        content = os.urandom(64 * 1024)
        (backup / f"patient-{n}.pdf").write_bytes(content)
        (originals / f"patient-{n}.pdf").write_bytes(content)
    os.symlink("/dev/zero", backup / "zero.pdf")
    os.mknod(backup / "device.pdf", 0o600 | 0o020000, os.makedev(1, 5))
    os.mkfifo(backup / "pipe.pdf")
    odd = os.fsencode(str(backup)) + b"/facture\xff\xfe.pdf.locked"
    with open(odd, "wb") as handle:
        handle.write(b"encrypted?")
    return backup


def folder_bytes(folders: list[Path]) -> int:
    total = 0
    for folder in folders:
        for dirpath, _, files in os.walk(folder):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
                except OSError:
                    continue
    return total


def vigie_folders(env: dict[str, str]) -> list[Path]:
    return [Path(env["XDG_DATA_HOME"]) / "Vigie", Path(env["XDG_CACHE_HOME"]) / "Vigie",
            Path(env["XDG_STATE_HOME"]) / "Vigie", Path(env["XDG_RUNTIME_DIR"]) / "Vigie"]


SERVICE_NAMES = {"Xvfb", "dbus-daemon", "dunst", "gnome-keyring-daemon", "gnome-keyring-d"}


def session_processes(env: dict[str, str], services: harness.Services) -> list[str]:
    """Processes running with this session's HOME that are neither its services nor this script."""
    exclude = {os.getpid()}
    for proc in services.procs:
        if proc.poll() is None:
            exclude |= {proc.pid} | {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
    found = []
    for process in psutil.process_iter(["pid", "name"]):
        if process.pid in exclude or process.info["name"] in SERVICE_NAMES:
            continue
        try:
            environ = process.environ()
        except (psutil.Error, OSError):
            continue
        if environ.get("HOME") == env["HOME"]:
            found.append(f"{process.info['name']}[{process.pid}]")
    return found


def started_agent(env: dict[str, str]) -> tuple[subprocess.Popen, psutil.Process]:
    """The real agent, once its icon shows and its volume watch has started. The icon comes first: a stick
    plugged in before the watch starts is, rightly, one that was there at the start (no insertion row), and
    the journal would count one insertion short."""
    process = subprocess.Popen([sys.executable, "-m", "vigie"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    harness.wait_for(lambda: "tray visible" in harness.vigie_log(env), timeout=30, what="the icon")
    harness.wait_for(lambda: "volume watch: started" in harness.vigie_log(env), timeout=60, what="the volume watch")
    return process, psutil.Process(process.pid)


class Plugger(threading.Thread):
    """Plugs the stick in and out every `period` seconds; counts the mount changes it made."""

    def __init__(self, stick: Stick, period: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.stick, self.period, self.stop = stick, period, stop
        self.mounts = self.unmounts = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.stick.mount()
            self.mounts += 1
            if self.stop.wait(self.period / 2):
                self.stick.umount()
                self.unmounts += 1
                return
            self.stick.umount()
            self.unmounts += 1
            self.stop.wait(self.period / 2)


class User(threading.Thread):
    """Away from the desk: lets the idle watch lock, unlocks 5 s later, one move, leaves again."""

    def __init__(self, env: dict[str, str], stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.env, self.stop, self.unlocks = env, stop, 0

    def run(self) -> None:
        while not self.stop.wait(1):
            lockers = harness.lockers_on(self.env)
            if lockers and harness.screen_grabbed(self.env):
                if self.stop.wait(5):
                    return
                for locker in lockers:
                    locker.terminate()
                self.unlocks += 1
                harness.xdo(self.env, "mousemove_relative", "--", "5", "5")


def anonymous_bytes(pid: int) -> int:
    """The process's anonymous memory (its heap, stacks, arenas: smaps_rollup's Anonymous). Unlike USS it
    does not move when another process stops sharing a library's pages with it: what a leak would grow."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Anonymous:"):
            return int(line.split()[1]) * 1024
    return 0


def sample(agent: psutil.Process, env: dict[str, str], started: float) -> dict[str, float]:
    memory = agent.memory_full_info()
    return {"t": time.monotonic() - started, "rss": memory.rss, "uss": memory.uss, "anon": anonymous_bytes(agent.pid),
            "threads": agent.num_threads(),
            "fds": agent.num_fds(), "children": len(agent.children(recursive=True)),
            "zombies": sum(1 for c in agent.children(recursive=True) if c.status() == psutil.STATUS_ZOMBIE),
            "disk": folder_bytes(vigie_folders(env))}


def configure(env: dict[str, str], drive: Stick, originals: Path) -> None:
    settings = (("idle_lock.remind_after_seconds", REMIND), ("idle_lock.lock_after_seconds", LOCK),
                ("lock.locker_command", "i3lock -n -c 204080"))
    for key, value in settings:
        assert harness.run_vigie(env, "config", "set", key, str(value)).returncode == 0
    drive.mount()
    backup = hostile_backup(drive.mount_point, originals)
    enrolled = harness.run_vigie(env, "backup", "enroll", str(backup), "--originals", str(originals))
    assert enrolled.returncode == 0, enrolled.stderr


def soak(env: dict[str, str], workdir: Path, minutes: float, services: harness.Services) -> dict:
    for name in ("drive", "stick"):
        (workdir / name).mkdir()
    drive, stick = Stick(workdir / "drive", "SAUVEGARDE"), Stick(workdir / "stick", STICK)
    try:
        configure(env, drive, Path(env["HOME"]) / "Documents")
        agent_proc, agent = started_agent(env)
        stop = threading.Event()
        plugger, user = Plugger(stick, 10, stop), User(env, stop)
        plugger.start()
        user.start()
        started, samples, clicks = time.monotonic(), [], 0
        next_drill = started
        while time.monotonic() - started < minutes * 60:
            if time.monotonic() >= next_drill:
                clicks += harness.sni_menu(env, "click", "Tester ma sauvegarde").returncode == 0
                next_drill += 120
            samples.append(sample(agent, env, started))
            time.sleep(30)
        stop.set()
        plugger.join(15)
        user.join(15)
        journal_caught_up(env, plugger)
        samples.append(sample(agent, env, started))
        for locker in harness.lockers_on(env):
            locker.terminate()
        harness.stop(agent_proc, timeout=10)
        time.sleep(0.5)  # let any orphan's parent change settle before the census
        leftovers = session_processes(env, services)
        return {"samples": samples, "mounts": plugger.mounts, "unmounts": plugger.unmounts, "clicks": clicks,
                "unlocks": user.unlocks, "leftovers": leftovers, "journal": journal_counts(env)}
    finally:
        stick.remove()
        drive.remove()


def journal_caught_up(env: dict[str, str], plugger: Plugger, timeout: float = 10.0) -> None:
    """The last mount may come a moment before the stop: give the agent time to journal it (the verdict
    then reads the journal), rather than stopping it under that mount."""
    deadline = time.monotonic() + timeout
    wanted = (plugger.mounts, plugger.unmounts)
    while time.monotonic() < deadline:
        counts = journal_counts(env)
        if (counts.get("usb_inserted " + STICK, 0), counts.get("usb_removed " + STICK, 0)) == wanted:
            return
        time.sleep(0.2)


def journal_counts(env: dict[str, str]) -> dict[str, int]:
    import sqlite3

    path = Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3"
    with sqlite3.connect(path) as db:
        counts = dict(db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall())
        # Only the soak's own stick: the mount table is the machine's, other runs may plug theirs.
        counts.update(db.execute("SELECT kind || ' ' || json_extract(data, '$.label'), COUNT(*) FROM events "
                                 "WHERE kind IN ('usb_inserted', 'usb_removed') GROUP BY 1").fetchall())
        outcomes = db.execute("SELECT json_extract(data, '$.outcome'), COUNT(*) FROM events "
                              "WHERE kind = 'restore_drill' GROUP BY 1").fetchall()
    counts["drill outcomes"] = ", ".join(f"{outcome} {n}" for outcome, n in outcomes) or "none"
    return counts


def report(result: dict, minutes: float) -> bool:
    samples = result["samples"]
    after_two = [s for s in samples if s["t"] >= 120] or samples
    growth = samples[-1]["rss"] - after_two[0]["rss"]
    hours = max((samples[-1]["t"] - after_two[0]["t"]) / 3600, 1e-9)
    journal = result["journal"]
    print(f"soak {minutes:g} min, loadavg {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ours = journal.get("usb_inserted " + STICK, 0), journal.get("usb_removed " + STICK, 0)
    print(f"  mount changes of the soak's stick: {result['mounts']} mounts, {result['unmounts']} unmounts; journal "
          f"usb_inserted {ours[0]}, usb_removed {ours[1]}"
          f" (all drives: {journal.get('usb_inserted', 0)} / {journal.get('usb_removed', 0)}, "
          f"mount_unseen {journal.get('mount_unseen', 0)})")
    print(f"  drills clicked {result['clicks']}, journaled restore_drill {journal.get('restore_drill', 0)}; "
          f"unlocks by the user {result['unlocks']}")
    print(f"  drill outcomes: {journal['drill outcomes']}")
    disks = [s["disk"] for s in samples]
    print(f"  Vigie's folders: max {max(disks) / 2**20:.2f} MiB, end {disks[-1] / 2**20:.2f} MiB "
          f"(bound {DISK_BOUND / 2**20:.0f} MiB)")
    print(f"  RSS from 2 min to end: {after_two[0]['rss'] / 2**20:.1f} -> {samples[-1]['rss'] / 2**20:.1f} MB "
          f"(growth {growth / 2**20:+.2f} MB, {growth / 2**20 / hours:+.2f} MB/h); USS median "
          f"{statistics.median(s['uss'] for s in samples) / 2**20:.1f} MB")
    print(f"  threads max {max(s['threads'] for s in samples)}, fds max {max(s['fds'] for s in samples)}, "
          f"zombies max {max(s['zombies'] for s in samples)}")
    print(f"  processes left after the agent stopped: {result['leftovers'] or 'none'}")
    verdicts = {
        "disk bounded": max(disks) <= DISK_BOUND,
        "no orphan": not result["leftovers"],
        "journal complete": ours == (result["mounts"], result["unmounts"]),
        "every drill journaled": journal.get("restore_drill", 0) >= result["clicks"],
        "RSS growth <= 2 MB": growth <= RSS_GROWTH_BOUND,
    }
    for name, passed in verdicts.items():
        print(f"  {name}: {'PASS' if passed else 'FAIL'}")
    return all(verdicts.values())


ISSUE21_REMIND, ISSUE21_LOCK = 120, 170  # + 5 s locked + the move: a cycle about every 3 minutes
ISSUE21_SAMPLE = 300
ISSUE21_SETTLE = 600
SLOPE_BOUND_MB_H = 0.5


def slope_per_hour(samples: list[dict], key: str) -> float:
    """Least-squares slope of samples[key] (bytes) in MB per hour."""
    ts, ys = [s["t"] / 3600 for s in samples], [s[key] / 2**20 for s in samples]
    if len(ts) < 2:
        return float("nan")
    mean_t, mean_y = statistics.fmean(ts), statistics.fmean(ys)
    spread = sum((t - mean_t) ** 2 for t in ts)
    return sum((t - mean_t) * (y - mean_y) for t, y in zip(ts, ys, strict=True)) / spread if spread else float("nan")


def soak_issue21(env: dict[str, str], workdir: Path, minutes: float) -> dict:
    (workdir / "stick").mkdir()
    stick = Stick(workdir / "stick", STICK)
    settings = (("idle_lock.remind_after_seconds", ISSUE21_REMIND), ("idle_lock.lock_after_seconds", ISSUE21_LOCK),
                ("lock.locker_command", "i3lock -n -c 204080"))
    for key, value in settings:
        assert harness.run_vigie(env, "config", "set", key, str(value)).returncode == 0
    try:
        agent_proc, agent = started_agent(env)
        stop = threading.Event()
        plugger, user = Plugger(stick, 30, stop), User(env, stop)
        plugger.start()
        user.start()
        started, samples = time.monotonic(), []
        while True:
            samples.append(sample(agent, env, started))
            s = samples[-1]
            print(f"  {s['t'] / 60:5.1f} min  USS {s['uss'] / 2**20:6.2f} MB  RSS {s['rss'] / 2**20:6.2f} MB  "
                  f"anonymous {s['anon'] / 2**20:6.2f} MB  "
                  f"threads {s['threads']}  fds {s['fds']}  zombies {s['zombies']}  "
                  f"mounts {plugger.mounts}  unlocks {user.unlocks}  "
                  f"loadavg {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
            if time.monotonic() - started >= minutes * 60:
                break
            time.sleep(min(ISSUE21_SAMPLE, max(1.0, minutes * 60 - (time.monotonic() - started))))
        stop.set()
        plugger.join(15)
        user.join(15)
        journal_caught_up(env, plugger)
        for locker in harness.lockers_on(env):
            locker.terminate()
        harness.stop(agent_proc, timeout=10)
        return {"samples": samples, "mounts": plugger.mounts, "unlocks": user.unlocks,
                "journal": journal_counts(env)}
    finally:
        stick.remove()


def report_issue21(result: dict, minutes: float) -> bool:
    samples = result["samples"]
    settled = [s for s in samples if s["t"] >= ISSUE21_SETTLE]
    slope = slope_per_hour(settled, "uss")
    journal = result["journal"]
    print(f"issue-21 soak {minutes:g} min, loadavg {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  insertions {result['mounts']} (journal usb_inserted {journal.get('usb_inserted ' + STICK, 0)}, "
          f"usb_removed {journal.get('usb_removed ' + STICK, 0)}, mount changes it could not tell apart "
          f"{journal.get('mount_unseen', 0)}), unlocks by the user {result['unlocks']}")
    print(f"  USS after {ISSUE21_SETTLE // 60} min: {len(settled)} samples, slope {slope:+.3f} MB/h "
          f"(RSS {slope_per_hour(settled, 'rss'):+.3f}, anonymous {slope_per_hour(settled, 'anon'):+.3f} MB/h; "
          f"USS moves when other processes stop sharing pages)  target <= {SLOPE_BOUND_MB_H} MB/h -> "
          f"{'MET' if slope <= SLOPE_BOUND_MB_H else 'MISSED' if len(settled) >= 2 else 'UNKNOWN (too short)'}")
    print(f"  threads max {max(s['threads'] for s in samples)}, fds max {max(s['fds'] for s in samples)}, "
          f"zombies max {max(s['zombies'] for s in samples)}")
    return len(settled) >= 2 and slope <= SLOPE_BOUND_MB_H


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("needs root: loop devices, mounts and mknod")
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--issue21", action="store_true", help="USB every 30 s, lock cycle every 3 min, slope")
    args = parser.parse_args()
    services = harness.Services()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            env = dict(desktop(services, Path(tmp)), PYSTRAY_BACKEND="appindicator")
            if args.issue21:
                passed = report_issue21(soak_issue21(env, Path(tmp), args.minutes), args.minutes)
            else:
                passed = report(soak(env, Path(tmp), args.minutes, services), args.minutes)
        finally:
            services.close()
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
