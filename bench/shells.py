"""Lock and unlock in the real shells (issue 16), end to end: the running agent in GNOME Shell (X11), KDE
Plasma, XFCE with xscreensaver and XFCE with light-locker (tests/shells.py starts them as the test lane
does; light-locker's lock is LightDM's greeter, a stand-in there).

Per shell, CYCLES times: « Verrouiller maintenant » clicked over DBusMenu → Vigie's log says the lock is
verified ("screen locked via", its own time stamp); then the user unlocks → Vigie's idle watch says the lock
ended ("idle watch: the lock ended"). Each beside its floor, measured in the same cycle: a bare poll of
the shell's own state every 10 ms (GetActive, xscreensaver's status, or logind's Active for light-locker)
from the same starting moment.
Targets: unlock → seen ≤ 0.5 s (median and p95); lock → verified: reported (the shell's own animation
is most of it). Needs root (xscreensaver's daemon runs as a user of its own), like the lane.

    .venv/bin/python bench/shells.py [--cycles 10] [--shells gnome-x11,kde,xfce-xscreensaver,xfce-light-locker]
"""

from __future__ import annotations

import argparse
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
import shells  # noqa: E402
from test_shells import Desk, logged_at, type_xscreensaver_password, wall, xscreensaver_user  # noqa: E402


def until(predicate, timeout: float = 15.0, step: float = 0.01) -> float:
    """time.monotonic() when `predicate` first holds (polled every `step` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(step)
    raise TimeoutError("condition not met")


def start(name: str, base: Path) -> Desk:
    uid = xscreensaver_user().pw_uid if name == "xfce-xscreensaver" else 0
    shell = shells.start_shell(name, base, uid)
    env = dict(shell.env, PYSTRAY_BACKEND="appindicator")
    shell.env = env
    for key, value in (("idle_lock.remind_after_seconds", 600), ("idle_lock.lock_after_seconds", 900),
                       ("notifications.enabled", "non"), ("cps_card.enabled", "non"), ("usb_storage.enabled", "non"),
                       ("os_updates.enabled", "non")):
        assert harness.run_vigie(env, "config", "set", key, str(value)).returncode == 0
    agent = subprocess.Popen([sys.executable, "-m", "vigie"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    harness.wait_for(lambda: "tray visible backend=appindicator" in harness.vigie_log(env), timeout=30,
                     what=f"Vigie's icon in {name}")
    harness.wait_for(lambda: harness.sni_menu(env, "labels").stdout.strip(), what="the menu")
    return Desk(shell, agent)


def cycle(desk: Desk) -> dict[str, float]:
    mark = len(desk.log())
    asked = time.monotonic()
    subprocess.run([sys.executable, str(harness.SUPPORT / "sni_menu.py"), "click", "Verrouiller maintenant"],
                   env=desk.env, check=True, timeout=30)
    shell_locked = until(desk.locked)
    harness.wait_for(lambda: "screen locked via" in desk.log_after(mark), timeout=15, what="the proof")
    verified = logged_at(desk.log_after(mark), "screen locked via") - wall(asked)
    harness.wait_for(lambda: "idle watch: active -> locked" in desk.log_after(mark), timeout=15,
                     what="the watch to know")
    time.sleep(0.5)
    mark = len(desk.log())
    desk.shell.nudge()
    if desk.name == "xfce-xscreensaver":
        type_xscreensaver_password(desk)
        unlocked_asked = desk.password_entered
        shell_unlocked = time.monotonic()  # type_… returned once xscreensaver said unlocked (polled)
    else:
        unlocked_asked = time.monotonic()
        desk.shell.unlock()
        shell_unlocked = until(lambda: not desk.locked())
    harness.wait_for(lambda: "idle watch: the lock ended" in desk.log_after(mark), timeout=15, what="the return")
    seen = logged_at(desk.log_after(mark), "idle watch: the lock ended") - wall(unlocked_asked)
    return {"lock → verified": verified, "lock floor (shell shows it)": shell_locked - asked,
            "unlock → seen": seen, "unlock floor (shell says it)": shell_unlocked - unlocked_asked}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--shells", default="gnome-x11,kde,xfce-xscreensaver,xfce-light-locker")
    args = parser.parse_args()
    print(f"loadavg before: {os.getloadavg()}")
    for name in args.shells.split(","):
        with tempfile.TemporaryDirectory(prefix=f"vigie-bench-{name}-") as tmp:
            desk = start(name, Path(tmp))
            try:
                rows = [cycle(desk) for _ in range(args.cycles)]
            finally:
                harness.stop(desk.agent)
                desk.shell.close()
        print(f"{name} ({args.cycles} cycles, loadavg {os.getloadavg()[0]:.2f}):")
        for key in rows[0]:
            values = [row[key] for row in rows]
            print(f"  {key:30s} median {statistics.median(values):.3f} s   p95 {p95(values):.3f} s   "
                  f"max {max(values):.3f} s")


if __name__ == "__main__":
    main()
