"""Vigie in the desktops people really run (issue 16): GNOME Shell on X11 (Ubuntu's AppIndicator
extension), KDE Plasma, XFCE with xscreensaver and with light-locker, and a smoke test on GNOME Wayland.
Each shell starts once for this module (tests/shells.py) with one Vigie agent in it; the tests below run
in order on it, with short idle settings (REMIND / LOCK s) so the whole lane stays short.

What is real: the shell, its tray (SNI host), its notification server and list, its screen saver and
lock, its idle counter; Vigie itself. Stand-ins: GDM, LightDM and logind on a private system bus (no
systemd booted here, no display manager), and the "password typed" at unlock: the shell's own unlock
request (GNOME's SetActive(false), logind's Unlock for KDE, the password typed into xscreensaver's
dialog, the sign-in at LightDM's greeter that light-locker hands the lock to).
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import time
from pathlib import Path

import pytest

import harness
import shells

REMIND, LOCK = 8, 14  # s
UNLOCK_HEARD_WITHIN = 2.0  # s, issue 16
LOCK_TOLERANCE = 1.0  # s, the idle lock against its setting
SCREENSHOTS = Path(os.environ.get("VIGIE_SHOTS", "/tmp/vigie-shells-shots"))
LANE = ("gnome-x11", "kde", "xfce-xscreensaver", "xfce-light-locker", "gnome-wayland")
FULL = {"gnome-x11", "kde", "xfce-xscreensaver", "xfce-light-locker"}  # the whole scenario; Wayland a smoke
XSCREENSAVER_USER = "vigie-locker"  # xscreensaver refuses to lock for root: its daemon runs as this user
XSCREENSAVER_PASSWORD = "vigietest"  # letters only: xdotool types them the same on any keymap
TIMINGS: dict[str, dict[str, float]] = {}


class Desk:
    """A shell with Vigie running in it."""

    def __init__(self, shell: shells.Shell, agent: subprocess.Popen) -> None:
        self.shell, self.agent, self.env = shell, agent, shell.env
        self.name = shell.name
        self.password_entered = 0.0
        self.still_locked_at = 0.0  # last seen locked by unlock(): delays measured from it are upper bounds
        TIMINGS[self.name] = {"shell start": shell.started_in}

    def log(self) -> str:
        return harness.vigie_log(self.env)

    def log_after(self, mark: int) -> str:
        return self.log()[mark:]

    def locked(self) -> bool:
        if self.name == "xfce-xscreensaver":
            return "screen locked" in self.shell.xscreensaver("-time")
        if self.name == "xfce-light-locker":  # its GetActive stays false: the lock is LightDM's greeter
            return self.shell.greeter_in_front()
        return self.shell.screensaver_active()

    def menu(self, *args: str) -> subprocess.CompletedProcess:
        return harness.sni_menu(self.env, *args)

    def wait_log(self, text: str, mark: int, timeout: float, what: str) -> float:
        """Seconds until `text` shows in Vigie's log after `mark`."""
        started = time.monotonic()
        harness.wait_for(lambda: text in self.log_after(mark), timeout=timeout, what=what)
        return time.monotonic() - started

    def unlock(self) -> float:
        """The user is back: input, then the shell unlocks. Returns the moment the unlock was asked for
        (for xscreensaver: Enter pressed after the password), so delays measured from it are upper bounds."""
        self.shell.nudge()
        asked = time.monotonic()
        if self.name == "xfce-xscreensaver":
            type_xscreensaver_password(self)
            asked = self.password_entered
        else:
            self.shell.unlock()
        self.still_locked_at = asked

        def unlocked() -> bool:
            if self.locked():
                self.still_locked_at = time.monotonic()
                return False
            return True

        harness.wait_for(unlocked, timeout=10, what=f"{self.name} unlocked")
        return asked


def xscreensaver_user() -> pwd.struct_passwd:
    """A user of its own for the xscreensaver daemon: it refuses to lock for root or system users."""
    try:
        pwd.getpwnam(XSCREENSAVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", XSCREENSAVER_USER],
                       check=True, timeout=30)
    subprocess.run(["chpasswd"], input=f"{XSCREENSAVER_USER}:{XSCREENSAVER_PASSWORD}", text=True, check=True,
                   timeout=30)
    return pwd.getpwnam(XSCREENSAVER_USER)


def type_xscreensaver_password(desk) -> None:
    """What the user does at xscreensaver's lock: moves the mouse until its dialog shows (it ignores
    input for a moment after locking), types the password, Enter."""
    for _attempt in range(3):
        for _ in range(12):
            desk.shell.nudge()
            time.sleep(0.2)
        harness.xdo(desk.env, "type", "--delay", "30", XSCREENSAVER_PASSWORD)
        harness.xdo(desk.env, "key", "Return")
        desk.password_entered = time.monotonic()
        try:
            harness.wait_for(lambda: not desk.locked(), timeout=4, what="xscreensaver to accept the password")
            return
        except TimeoutError:
            continue


@pytest.fixture(scope="module", params=LANE)
def desk(request, tmp_path_factory, apt_config):
    name = request.param
    if os.geteuid() != 0 and name == "xfce-xscreensaver":
        pytest.skip("xscreensaver's daemon runs as a user of its own: that needs root (CI runs as root)")
    base = tmp_path_factory.mktemp(name)
    locker_uid = xscreensaver_user().pw_uid if name == "xfce-xscreensaver" else 0
    shell = shells.start_shell(name, base, locker_uid)
    try:
        env = dict(shell.env, APT_CONFIG=apt_config, PYSTRAY_BACKEND="appindicator")
        shell.env = env
        for key, value in (("idle_lock.remind_after_seconds", REMIND), ("idle_lock.lock_after_seconds", LOCK),
                           ("notifications.enabled", "non"), ("cps_card.enabled", "non"),
                           ("usb_storage.enabled", "non")):
            result = harness.run_vigie(env, "config", "set", key, str(value))
            assert result.returncode == 0, result.stderr
        shell.clear_notifications()
        started = time.monotonic()
        agent = subprocess.Popen([sys.executable, "-m", "vigie"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=(base / "agent.stderr").open("w"))
        try:
            harness.wait_for(lambda: (shell.nudge(), "tray visible backend=appindicator" in harness.vigie_log(env))[1],
                             timeout=30, what=f"Vigie's icon in {name}")
            one = Desk(shell, agent)
            TIMINGS[name]["agent start"] = time.monotonic() - started
            yield one
        finally:
            harness.stop(agent)
            if request.session.testsfailed:
                print(shells.shell_logs(shell), file=sys.stderr)
                print(harness.vigie_log(env)[-4000:], file=sys.stderr)
    finally:
        shell.close()


def test_icon_registered_and_menu_read_back_in_french(desk):
    entries = harness.wait_for(lambda: desk.menu("labels").stdout.splitlines(), what="the menu over DBusMenu")
    assert entries[0] == "Verrouiller maintenant"
    assert "Vérifier maintenant" in entries and "Quitter" in entries
    assert desk.menu("title").stdout.strip().startswith("Vigie")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{desk.name}-icon.png"
    # The icon on screen, by its state colour in the panel: grey ("checking…") is not looked for (the
    # panels have grey too), so this waits for the first checks' colour.
    x, y = harness.wait_for(lambda: icon_position(desk.shell.screenshot(shot)), timeout=20,
                            what="Vigie's icon drawn in the panel")
    if desk.name == "gnome-wayland":
        return  # no xdotool pointer on Wayland: the menu is read over DBusMenu above
    harness.xdo(desk.env, "mousemove", str(x), str(y))
    harness.xdo(desk.env, "click", "3")  # the menu (a left click on KDE and XFCE would lock: the default item)
    time.sleep(1.0)  # the menu's opening animation: nothing to wait on but the pixels
    desk.shell.screenshot(SCREENSHOTS / f"{desk.name}-menu.png")
    harness.xdo(desk.env, "key", "Escape")
    harness.xdo(desk.env, "mousemove", "640", "400")  # away from the icon: no tooltip left over the next shots


def covered_by(env: dict[str, str], classname: str) -> bool:
    """A window of this class covers the whole screen."""
    width, height = (int(n) for n in harness.xdo(env, "getdisplaygeometry").split())
    return any(w["WIDTH"] >= width and w["HEIGHT"] >= height for w in harness.windows_of_class(env, classname))


def test_lock_now_locks_through_the_desktop_and_is_verified_then_the_unlock_is_heard_at_once(desk):
    mark = len(desk.log())
    asked = time.monotonic()
    assert desk.menu("click", "Verrouiller maintenant").returncode == 0
    harness.wait_for(desk.locked, timeout=10, what=f"{desk.name} locked")
    seen = desk.wait_log("screen locked via", mark, 10, "Vigie's proof of the lock")
    TIMINGS[desk.name]["lock now → verified"] = time.monotonic() - asked
    assert "lock failed" not in desk.log_after(mark)
    if desk.name == "xfce-light-locker":  # its blank window holds the keyboard under the greeter
        assert harness.screen_grabbed(desk.env)
    if desk.name == "xfce-xscreensaver":  # « locked » and its grab at once, then a 3 s fade of the desktop
        harness.wait_for(lambda: covered_by(desk.env, "xscreensaver"), timeout=10, what="xscreensaver's window")
    desk.shell.screenshot(SCREENSHOTS / f"{desk.name}-locked.png")
    assert seen >= 0
    if desk.name == "gnome-wayland":
        return  # the smoke ends here
    mark = len(desk.log())
    desk.unlock()
    harness.wait_for(lambda: "idle watch: the lock ended" in desk.log_after(mark), timeout=10,
                     what="Vigie to see the lock end")
    # From the last moment the shell still said « locked »: an upper bound of Vigie's own delay, without
    # the time the shell takes to obey the unlock (KDE's took over a second under CI load).
    heard = lock_end_logged_at(desk.log_after(mark)) - wall(desk.still_locked_at)
    TIMINGS[desk.name]["unlock → heard"] = heard
    assert heard <= UNLOCK_HEARD_WITHIN, f"the unlock was heard {heard:.2f} s later"
    if desk.name == "xfce-light-locker":  # it obeyed logind's Unlock: its blank window let the keyboard go
        harness.wait_for(lambda: not harness.screen_grabbed(desk.env), timeout=5, what="light-locker's grab released")


def test_unlocked_then_gone_again_is_reminded_in_the_shells_list_then_locked_on_time(desk):
    """Unlock, one input, leave: the reminder with « Je suis là » in the shell's own list, its button
    pressed through the shell; leave again: the lock comes LOCK s after the last input (or the press)."""
    if desk.name not in FULL:
        pytest.skip("the smoke on GNOME Wayland stops at the lock")
    if desk.locked():
        desk.unlock()
    mark = len(desk.log())
    desk.shell.nudge()  # the one input, then nobody
    left = time.monotonic()
    reminder = harness.wait_for(lambda: reminders(desk), timeout=REMIND + 5, what="the reminder in the shell's list")
    reminded_after = time.monotonic() - left
    assert "Je suis là" in reminder[-1]["actions"], reminder
    assert reminded_after >= REMIND - LOCK_TOLERANCE
    harness.wait_for(desk.shell.popup_shown, timeout=5, what="the reminder's pop-up on screen")
    desk.shell.screenshot(SCREENSHOTS / f"{desk.name}-reminder.png")
    desk.shell.press("Je suis là")
    pressed = time.monotonic()
    desk.wait_log("idle watch: reminded -> active", mark, 5, "the press to count as the user's presence")
    harness.wait_for(desk.locked, timeout=LOCK + 5, what="the idle lock")
    TIMINGS[desk.name]["idle lock seen by the shell after the press"] = time.monotonic() - pressed
    # The setting governs when Vigie asks; the shell then takes its own time to show the lock (measured
    # above, and by bench/shells.py).
    asked_after = logged_at(desk.log_after(mark), "idle watch: reminded -> locked") - wall(pressed)
    TIMINGS[desk.name]["idle lock asked after the press"] = asked_after
    assert abs(asked_after - LOCK) <= LOCK_TOLERANCE, f"locked {asked_after:.2f} s after the press, not {LOCK}"
    desk.wait_log("screen locked via", mark, 10, "Vigie's proof of the idle lock")
    mark = len(desk.log())
    desk.unlock()
    desk.wait_log("idle watch: the lock ended", mark, UNLOCK_HEARD_WITHIN + 1, "the return after the idle lock")


def test_a_notification_held_behind_the_lock_is_shown_within_2_s_of_the_unlock(desk):
    """Nothing is shown over the lock screen: a problem found while locked waits for the user, and is in the
    shell's own list within 2 s of the unlock. Notifications are switched on while locked (the running agent
    follows its settings), then « Vérifier maintenant » is sent to Vigie's menu over DBusMenu: the tray
    host's side of a click the user could not make behind the lock, so that the checks find something to
    say now."""
    if desk.name not in FULL:
        pytest.skip("the lock is driven here only where the whole scenario runs")
    if desk.locked():
        desk.unlock()
    seen_before = {(n["title"], n["body"]) for n in desk.shell.notifications()}

    def new_notifications() -> list[dict]:
        # Not the reminder, nor the tip for the unlock just above: under load the agent may give it after
        # this list was read (test_guards.py: it never shows over a lock made since).
        return [n for n in desk.shell.notifications() if (n["title"], n["body"]) not in seen_before
                and not n["title"].startswith(("Poste inactif", "Vigie a verrouillé le poste"))]

    mark = len(desk.log())
    assert desk.menu("click", "Verrouiller maintenant").returncode == 0
    desk.wait_log("screen locked via", mark, 10, "Vigie's proof of the lock")
    try:
        result = harness.run_vigie(desk.env, "config", "set", "notifications.enabled", "oui")
        assert result.returncode == 0, result.stderr
        desk.wait_log("settings applied", mark, 10, "the agent to take the new setting")
        # GNOME Shell drops its tray (the AppIndicator extension) while locked: Vigie's item, by its process.
        clicked = desk.menu("--pid", str(desk.agent.pid), "click", "Vérifier maintenant")
        assert clicked.returncode == 0, clicked.stderr
        desk.wait_log("notification held until the screen is unlocked", mark, 30, "a notification held")
        assert desk.locked() and new_notifications() == []  # nothing over the lock
        # The user is away longer than the shell's own work after a lock: kscreenlocker_greet takes the
        # clipboard, and plasmashell's clipboard engine then waits for its answer (Qt waits up to 5 s per
        # selection) with its main loop stopped; a greeter starting on a loaded machine answers late, so
        # plasmashell cannot list anything for up to 10 s after the lock (seen with gdb and dbus-monitor;
        # Kde.notification_server_free).
        TIMINGS[desk.name]["held → notification server free"] = desk.shell.notification_server_free()
        asked = desk.unlock()
        unlocked = desk.still_locked_at  # the shell unlocked after this moment (the unlock itself is the shell's)
        shown = harness.wait_for(new_notifications, timeout=10, what="the held notification in the shell's list")
        delay = time.monotonic() - unlocked
        TIMINGS[desk.name]["unlock asked → shell unlocked"] = unlocked - asked
        TIMINGS[desk.name]["shell unlocked → held notification listed"] = delay
        assert "held notification(s) released" in desk.log_after(mark)
        steps = [line for line in desk.log_after(mark).splitlines()
                 if any(word in line for word in ("lock ended", "released", "notification shown", "unlock"))]
        assert delay <= UNLOCK_HEARD_WITHIN, f"shown {delay:.2f} s after the unlock (at {wall(unlocked):.3f}): " \
                                             f"{shown}\n" + "\n".join(steps)
    finally:
        harness.run_vigie(desk.env, "config", "set", "notifications.enabled", "non")


def test_vigie_check_agrees_with_the_shells_own_settings(desk):
    expected = set_shell_lock_policy(desk)
    result = harness.run_vigie(desk.env, "check", "--json")
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    policy = checks["lock_policy"]
    assert policy["facts"]["lock_after_seconds"] == expected, policy
    idle_lock = checks["idle_lock"]
    assert idle_lock["severity"] == "ok", idle_lock


IDLE_PROBE = """
import json, sys
from vigie.platform import linux
read = {"gnome": linux.mutter_idle_ms, "kde": linux.kde_idle_ms, "light-locker": linux.light_locker_idle_ms}
print(json.dumps({"source": read[sys.argv[1]](), "x11": linux.x11_idle()[0]}))
"""


def test_the_desktops_idle_time_is_read_in_its_own_unit(desk):
    """Issue 16, defect 4: KDE's GetSessionIdleTime answers milliseconds, light-locker's seconds; both
    agree with the X server's own count once read by Vigie (GNOME's Mutter too)."""
    source = {"gnome-x11": "gnome", "kde": "kde", "xfce-light-locker": "light-locker"}.get(desk.name)
    if source is None:
        pytest.skip("no idle service of its own here (X11's count is the source)")
    desk.shell.nudge()
    time.sleep(2.2)
    out = subprocess.run([sys.executable, "-c", IDLE_PROBE, source], env=desk.env, capture_output=True, text=True,
                         timeout=30)
    read = json.loads(out.stdout)
    tolerance = 1000 if source == "light-locker" else 150  # whole seconds there
    assert abs(read["source"] - read["x11"]) <= tolerance, read
    assert read["source"] >= 1000, read  # 2 s idle, not 2 ms


# --- helpers ------------------------------------------------------------------------------------------

def icon_position(png: Path) -> tuple[int, int]:
    """The centre of Vigie's icon in the panel (a bar 48 px high at the top or the bottom): the
    pixels of its state colours (vigie.ui.colours)."""
    from PIL import Image

    from vigie.ui.colours import COLOURS

    image = Image.open(png).convert("RGB")
    width, height = image.size
    found = []
    for top in (0, height - 48):
        strip = image.crop((0, top, width, top + 48))
        pixels = strip.load()
        for colour in {c for c in COLOURS.values() if c != (128, 128, 128)}:
            found = [(x, top + y) for x in range(width) for y in range(48)
                     if all(abs(a - b) <= 12 for a, b in zip(pixels[x, y], colour, strict=True))]
            if len(found) >= 20:
                xs, ys = sorted(p[0] for p in found), sorted(p[1] for p in found)
                return xs[len(xs) // 2], ys[len(ys) // 2]
    raise AssertionError("Vigie's icon is not in the panel's pixels")


def reminders(desk) -> list[dict]:
    return [n for n in desk.shell.notifications() if n["title"].startswith("Poste inactif")]


def wall(monotonic: float) -> float:
    return time.time() - (time.monotonic() - monotonic)


def logged_at(log: str, text: str) -> float:
    """The wall-clock time of the first line holding `text` (the log's own time stamps, ms)."""
    from datetime import datetime

    line = next(line for line in log.splitlines() if text in line)
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def lock_end_logged_at(log: str) -> float:
    return logged_at(log, "idle watch: the lock ended")


def set_shell_lock_policy(desk) -> int:
    """Give the shell a lock setting of 5 minutes its own way; return what Vigie should read (s)."""
    env = desk.env
    if desk.name.startswith("gnome"):
        for schema, key, value in (("org.gnome.desktop.session", "idle-delay", "uint32 300"),
                                   ("org.gnome.desktop.screensaver", "lock-enabled", "true"),
                                   ("org.gnome.desktop.screensaver", "lock-delay", "uint32 0")):
            subprocess.run(["gsettings", "set", schema, key, value], env=env, check=True, timeout=20)
        # The shell itself reads the same: its own settings object, through Eval.
        assert desk.shell.eval("new imports.gi.Gio.Settings({schema_id: 'org.gnome.desktop.session'})"
                               ".get_uint('idle-delay')") == 300
        return 300
    if desk.name == "kde":
        subprocess.run(["kwriteconfig5", "--file", "kscreenlockerrc", "--group", "Daemon", "--key", "Timeout", "5"],
                       env=env, check=True, timeout=20)
        return 300 + 5  # and its LockGrace default (5 s) during which it opens without a password
    if desk.name == "xfce-xscreensaver":
        return 300
    subprocess.run(["xset", "s", "300"], env=env, check=True, timeout=20)  # what XFCE's power manager sets
    return 300 + 5  # light-locker's lock-after-screensaver default


def teardown_module() -> None:
    """The lane's figures, for the report and CI's log."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "timings.json").write_text(json.dumps(TIMINGS, indent=1))
    for name, figures in TIMINGS.items():
        print(name, ", ".join(f"{key} {value:.2f} s" for key, value in figures.items()))
