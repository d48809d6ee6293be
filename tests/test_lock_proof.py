"""A lock counts only when it is seen (issue 15, point 4): the real Linux lock path on Xvfb (i3lock and
its keyboard grab, `true` that only exits 0, `false`, a program that runs but never locks, the real
mate-screensaver over D-Bus, logind's LockedHint from a stand-in), the bounded wait for the proof,
the engine that locks off its own thread, and Windows and macOS around their one OS call each."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

import pytest

import harness
from support.fake_services import FR, FakeClock, FakePlatform
from support.logind_service import LogindStandIn
from vigie.alerts import AlertPolicy
from vigie.check import CheckContext
from vigie.config.schema import Config
from vigie.engine import Engine
from vigie.events import LOCK_NOW, Command, Event, LockFailed, SessionLocked, Stopped
from vigie.features.base import Feature
from vigie.i18n import render
from vigie.journal import Journal
from vigie.model import T
from vigie.platform import lock_proof, macos, windows
from vigie.platform.base import LockProof, LockRoute, LockUnproven, ToolFailed
from vigie.platform.linux import GREETER_PROOF, LinuxPlatform
from vigie.platform.lock_proof import await_proof


@pytest.fixture
def x_env(bus_env, services, monkeypatch):
    """Xvfb and a private session bus, in this process's environment too (the platform reads it);
    no system bus, so no logind (as on this machine)."""
    bus_env["DISPLAY"] = harness.start_xvfb(services, bus_env)
    for key in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        monkeypatch.setenv(key, bus_env[key])
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={bus_env['XDG_RUNTIME_DIR']}/no-system-bus")
    monkeypatch.delenv("XDG_SESSION_ID", raising=False)
    yield bus_env
    for locker in harness.lockers_on(bus_env):
        locker.terminate()


def timed(call):
    started = time.monotonic()
    try:
        return call(), time.monotonic() - started
    except Exception as exc:
        return exc, time.monotonic() - started


# --- Linux, on a real X server ---------------------------------------------------------------------

def test_a_locker_that_only_exits_0_is_not_a_lock(x_env):
    error, elapsed = timed(lambda: LinuxPlatform().lock_screen(["true"]))
    assert isinstance(error, LockUnproven), error
    assert render(error.reason, FR) == "Le verrouilleur d’écran true s’est lancé, mais l’écran ne s’est pas verrouillé."
    assert "true: started, not seen locked within 2 s" in error.log_detail
    assert 2.0 <= elapsed < 3.5  # it waited for a proof, and no longer than its budget
    assert not harness.screen_grabbed(x_env)


def test_a_locker_that_fails_is_reported_at_once_with_its_code(x_env):
    error, elapsed = timed(lambda: LinuxPlatform().lock_screen(["false"]))
    assert isinstance(error, ToolFailed), error
    assert render(error.reason, FR) == "Le verrouilleur d’écran false a échoué (code 1)."
    assert elapsed < 1.0  # no proof to wait for once it has failed


def test_a_locker_that_runs_without_locking_is_not_a_lock_and_is_left_alone(x_env):
    platform = LinuxPlatform()
    unlocked = []
    platform.on_unlock(lambda: unlocked.append(True))
    error, _ = timed(lambda: platform.lock_screen(["sleep", "30"]))
    assert isinstance(error, LockUnproven), error
    assert platform.screen_locked() is not True  # a running program is no lock
    sleeper = platform._locker.process
    assert sleeper.poll() is None  # never killed: it might be a lock Vigie cannot see
    sleeper.terminate()
    harness.wait_for(lambda: not platform._locker.running, what="the program reaped")
    assert unlocked == []  # its end is no "unlock": it never locked


def test_i3lock_is_proven_by_its_keyboard_grab_and_its_exit_is_the_unlock(x_env):
    platform = LinuxPlatform()
    unlocked = threading.Event()
    platform.on_unlock(unlocked.set)
    proof, elapsed = timed(lambda: platform.lock_screen(["i3lock", "-n", "-c", "000000"]))
    assert proof == LockProof("i3lock", "keyboard grab")
    assert elapsed < 1.5
    assert harness.screen_grabbed(x_env) and platform.screen_locked() is True
    for locker in harness.lockers_on(x_env):  # the user types the password
        locker.terminate()
    assert unlocked.wait(5)


def test_mate_screensaver_is_asked_over_d_bus_and_its_lock_seen_by_get_active(x_env, services):
    """The real mate-screensaver (gnome-screensaver 3.6 crashes on Xvfb, which has no gamma ramps)."""
    services.start(["mate-screensaver", "--no-daemon"], x_env)
    harness.wait_for(lambda: harness.bus_has(x_env, "org.mate.ScreenSaver"), what="mate-screensaver on the bus")
    platform = LinuxPlatform()
    service = "org.mate.ScreenSaver"
    assert platform.lock_route() == LockRoute(service, f"{service} GetActive")
    assert platform.screen_locked() is False
    proof, elapsed = timed(lambda: platform.lock_screen())
    assert proof == LockProof(service, f"{service} GetActive")
    assert elapsed < 2.0  # it answers Lock late or never: GetActive decides, not the reply
    assert platform.screen_locked() is True and harness.screen_grabbed(x_env)


def test_the_configured_locker_comes_before_the_desktops_screen_saver(x_env, services):
    """Issue 16, defect 7: the IT provider's locker is tried first; its keyboard grab proves its lock
    although the screen saver (mate-screensaver here) says it is not active."""
    services.start(["mate-screensaver", "--no-daemon"], x_env)
    harness.wait_for(lambda: harness.bus_has(x_env, "org.mate.ScreenSaver"), what="mate-screensaver on the bus")
    platform = LinuxPlatform()
    assert platform.lock_route(["i3lock", "-n"]) == LockRoute("i3lock", "keyboard grab")
    proof, elapsed = timed(lambda: platform.lock_screen(["i3lock", "-n", "-c", "203040"]))
    try:
        assert proof == LockProof("i3lock", "keyboard grab")
        assert elapsed < 2.0
        assert platform._locker is not None and platform._locker.running
        assert platform.screen_locked() is True  # Vigie's own locker holds it
    finally:
        platform._locker.process.terminate()


def test_logind_locked_hint_counts_as_proof(x_env, services, monkeypatch):
    logind = LogindStandIn(services, x_env, "c2")
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", x_env["DBUS_SYSTEM_BUS_ADDRESS"])
    monkeypatch.setenv("XDG_SESSION_ID", "c2")
    assert LinuxPlatform().lock_proof() is None
    logind.set("LockedHint", True)
    assert LinuxPlatform().lock_proof() == "logind LockedHint"


def test_the_login_screen_in_front_is_a_lock_whatever_the_screen_saver_says(x_env, services, monkeypatch):
    """light-locker's lock (issue 16): it hands the screen to LightDM's greeter and its own GetActive stays
    false; logind then says our session is not the seat's active one. The real mate-screensaver answers
    false here the way light-locker does (the whole light-locker lock runs in test_shells.py)."""
    services.start(["mate-screensaver", "--no-daemon"], x_env)
    harness.wait_for(lambda: harness.bus_has(x_env, "org.mate.ScreenSaver"), what="mate-screensaver on the bus")
    logind = LogindStandIn(services, x_env, "c2")
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", x_env["DBUS_SYSTEM_BUS_ADDRESS"])
    monkeypatch.setenv("XDG_SESSION_ID", "c2")
    platform = LinuxPlatform()
    assert platform.screen_locked() is False and platform.lock_proof() is None
    logind.set("Active", False)  # the greeter's session is now the seat's active one
    assert platform.screen_locked() is True
    assert platform.lock_proof() == GREETER_PROOF
    logind.set("Active", True)  # signed in again at the greeter
    assert platform.screen_locked() is False and platform.lock_proof() is None


def test_no_way_to_lock_at_all_says_so(bus_env, monkeypatch):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus_env["DBUS_SESSION_BUS_ADDRESS"])
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # neither loginctl nor xdg-screensaver
    error, _ = timed(lambda: LinuxPlatform().lock_screen())
    assert render(error.reason, FR) == "Aucun moyen de verrouiller l’écran n’a été trouvé sur ce poste."


# --- the wait for a proof --------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_proof_counts_when_seen_twice_in_a_row_within_the_budget():
    clock = Clock()
    looks = iter([None, "keyboard grab", None, "keyboard grab", "keyboard grab"])  # a menu's grab, then the locker's
    assert await_proof(lambda: next(looks), 2.0, clock=clock, sleep=clock.sleep) == "keyboard grab"
    assert clock.now == pytest.approx(0.4)


def test_no_proof_within_the_budget_and_a_failed_locker_stop_the_wait():
    clock = Clock()
    assert await_proof(lambda: None, 2.0, clock=clock, sleep=clock.sleep) is None
    assert clock.now == pytest.approx(2.0)
    clock = Clock()
    assert await_proof(lambda: None, 2.0, gave_up=lambda: clock.now >= 0.3, clock=clock, sleep=clock.sleep) is None
    assert clock.now == pytest.approx(0.3)


def test_a_probe_that_raises_is_nothing_seen_and_a_proof_at_the_deadline_gets_its_second_look():
    clock = Clock()

    def probe():
        if clock.now < 0.5:
            raise OSError("X server gone for a moment")
        return "keyboard grab" if clock.now >= 1.95 else None

    assert await_proof(probe, 2.0, clock=clock, sleep=clock.sleep) == "keyboard grab"


# --- Windows and macOS: their OS calls cannot run here; everything around them does ----------------

def test_windows_lock_is_proven_by_the_input_desktop(monkeypatch):
    """LockWorkStation and OpenInputDesktop are replaced (Windows only); the rest is Vigie's code."""
    asked = []
    looks = iter([False, False, True])
    monkeypatch.setattr(windows, "lock_workstation", lambda: asked.append("LockWorkStation"))
    monkeypatch.setattr(windows, "input_desktop_locked", lambda: next(looks, True))
    assert windows.WindowsPlatform().lock_screen(budget=1.0) == LockProof("LockWorkStation", "input desktop")
    assert asked == ["LockWorkStation"]
    assert windows.WindowsPlatform().lock_route() == LockRoute("LockWorkStation", "input desktop")


def test_windows_lock_never_seen_is_a_failure_in_french(monkeypatch):
    monkeypatch.setattr(windows, "lock_workstation", lambda: None)
    monkeypatch.setattr(windows, "input_desktop_locked", lambda: False)
    error, elapsed = timed(lambda: windows.WindowsPlatform().lock_screen(budget=0.5))
    assert isinstance(error, LockUnproven)
    assert render(error.reason, FR) == ("Windows a reçu la demande de verrouillage, mais la session ne s’est pas "
                                        "verrouillée.")
    assert 0.5 <= elapsed < 1.0


def test_macos_lock_is_proven_by_the_session_dictionary(monkeypatch):
    """SACLockScreenImmediate and CGSessionCopyCurrentDictionary are replaced (macOS only)."""
    sessions = iter([{"CGSSessionScreenIsLocked": 0}, {"CGSSessionScreenIsLocked": 1}])
    monkeypatch.setattr(macos, "sac_lock_screen", lambda: None)
    monkeypatch.setattr(macos, "quartz_session", lambda: next(sessions, {"CGSSessionScreenIsLocked": 1}))
    assert macos.MacPlatform().lock_screen(budget=1.0) == LockProof("SACLockScreenImmediate",
                                                                    "CGSSessionScreenIsLocked")
    monkeypatch.setattr(macos, "quartz_session", lambda: {"kCGSSessionOnConsoleKey": 1})  # no lock key: unlocked
    error, _ = timed(lambda: macos.MacPlatform().lock_screen(budget=0.3))
    assert render(error.reason, FR) == ("macOS a reçu la demande de verrouillage, mais la session ne s’est pas "
                                        "verrouillée.")
    monkeypatch.setattr(macos, "quartz_session", lambda: None)  # outside a GUI session
    assert macos.MacPlatform().screen_locked() is None


# --- the engine: the lock runs beside it, and only a seen lock is a lock --------------------------

class Watcher(Feature):
    id: ClassVar[str] = "watcher"
    handles: ClassVar[tuple[type[Event], ...]] = (SessionLocked, LockFailed)

    def __init__(self, services) -> None:
        super().__init__(services)
        self.seen: list[Event] = []
        self.acts: list[str] = []

    def handle(self, event: Event) -> None:
        self.seen.append(event)

    def act(self, action: str) -> None:
        self.acts.append(action)


@dataclass
class SlowDesk(FakePlatform):
    """A platform whose lock takes as long as the test says, then is seen or not."""

    release: threading.Event = field(default_factory=threading.Event)
    outcome: Exception | LockProof = field(default_factory=lambda: LockProof("i3lock", "keyboard grab"))
    calls: int = 0

    def lock_screen(self, locker_command=(), budget=lock_proof.LOCK_PROOF_SECONDS) -> LockProof:
        self.calls += 1
        self.release.wait(10)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.fixture
def engine():
    started = []

    def start(desk: SlowDesk):
        notified: list = []
        statuses: list = []
        ctx = CheckContext(desk, Config(), Journal.in_memory(), FakeClock(datetime.now().astimezone()))
        core = Engine((Watcher,), ctx, notify=notified.append, withdraw=lambda tag: None,
                      policy=AlertPolicy(Config().notifications, clock=ctx.clock), tr=FR, language="fr",
                      windows=None, on_status=statuses.append, on_show_status=lambda: None)
        thread = threading.Thread(target=core.run, daemon=True)
        thread.start()
        started.append((core, thread))
        return core, notified, statuses

    yield start
    for core, thread in started:
        core.submit(Stopped())
        thread.join(5)


def test_the_engine_goes_on_while_a_lock_is_proven_and_locks_once(engine):
    desk = SlowDesk(release=threading.Event())
    core, _, _ = engine(desk)
    core.submit(Command(LOCK_NOW))
    core.submit(Command(LOCK_NOW))  # clicked twice, or a card pulled out twice: one lock
    harness.wait_for(lambda: desk.calls == 1, timeout=5, what="the lock to start")
    core.submit(Command("watcher:ping"))  # the engine thread is free while the lock is being proven
    harness.wait_for(lambda: core.features["watcher"].acts == ["ping"], timeout=5, what="the engine to go on")
    assert core.features["watcher"].seen == []  # not seen locked yet: nobody hears "locked"
    desk.release.set()
    harness.wait_for(lambda: core.features["watcher"].seen == [SessionLocked()], timeout=5, what="SessionLocked")
    assert desk.calls == 1


def test_a_lock_not_seen_is_said_out_loud_and_nobody_believes_it(engine):
    reason = T("The screen locker {tool} ran, but the screen did not lock.", tool="true")
    desk = SlowDesk(release=threading.Event(), outcome=LockUnproven(reason, "true: started, not seen locked"))
    desk.release.set()
    core, notified, _ = engine(desk)
    core.submit(Command(LOCK_NOW))
    harness.wait_for(lambda: notified, timeout=5, what="the failure's notification")
    assert notified[0].title == "Vigie n’a pas pu verrouiller l’écran"
    assert notified[0].body == ("Le verrouilleur d’écran true s’est lancé, mais l’écran ne s’est pas verrouillé. "
                                "Verrouillez-le vous-même avant de partir\u00a0: Super + L (ou Ctrl + Alt + L).")
    harness.wait_for(lambda: core.features["watcher"].seen, timeout=5, what="LockFailed")
    assert core.features["watcher"].seen == [LockFailed(reason)]  # and no SessionLocked
    core.submit(Command(LOCK_NOW))  # the next lock is tried again
    harness.wait_for(lambda: desk.calls == 2, timeout=5, what="a second try")


def test_a_bug_in_the_platform_still_ends_the_lock_loudly(engine):
    desk = SlowDesk(release=threading.Event(), outcome=RuntimeError("bug"))
    desk.release.set()
    core, notified, _ = engine(desk)
    core.submit(Command(LOCK_NOW))
    harness.wait_for(lambda: notified, timeout=5, what="the failure's notification")
    assert notified[0].body.startswith("Une erreur interne a empêché le verrouillage")
    core.submit(Command(LOCK_NOW))
    harness.wait_for(lambda: desk.calls == 2, timeout=5, what="locks still possible after it")
