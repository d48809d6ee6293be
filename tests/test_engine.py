"""The engine alone: it dispatches events by type to the features that declared them, runs the checks
they trigger, routes "feature:action" commands, and says in French when a lock fails. Features and
the OS here are small stand-ins; the real ones run end to end in test_agent and the feature tests."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

import pytest

import harness
from support.fake_services import FR, FakeClock, FakePlatform
from vigie.alerts import AlertPolicy
from vigie.check import CheckContext
from vigie.config.schema import Config
from vigie.engine import Engine, Status
from vigie.events import LOCK_NOW, SHOW_STATUS, Command, Event, SessionLocked, Stopped, Tick, VolumeAdded
from vigie.features.base import Feature
from vigie.journal import Journal
from vigie.model import Action, Finding, Severity, T
from vigie.platform.base import LockProof, NotSupported, Volume


@dataclass(frozen=True)
class Knocked(Event):
    """A feature's own event; its field may hold a name (a volume, a file): personal data."""

    name: str = ""


class DoorCheck:
    id: ClassVar[str] = "os_updates"  # a configured section, so it counts as enabled
    label = T("Updates")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick, Knocked)

    def evaluate(self, event, ctx) -> Finding:
        return Finding(self.id, Severity.WARNING, T("The system is up to date."),
                       action=Action("door:open", T("Eject")), facts={"event": type(event).__name__})


class Door(Feature):
    id: ClassVar[str] = "door"
    checks = (DoorCheck(),)
    handles: ClassVar[tuple[type[Event], ...]] = (Knocked, SessionLocked)

    def __init__(self, services) -> None:
        super().__init__(services)
        self.seen: list[Event] = []
        self.acts: list[str] = []

    def handle(self, event: Event) -> None:
        self.seen.append(event)

    def act(self, action: str) -> None:
        self.acts.append(action)

    def menu_line(self, findings):
        return T("CPS card") if "os_updates" in findings else None


class Broken(Feature):
    id: ClassVar[str] = "broken"
    handles: ClassVar[tuple[type[Event], ...]] = (Knocked,)

    def handle(self, event: Event) -> None:
        raise RuntimeError("a bug in one feature")


class Desk(FakePlatform):
    def __init__(self, lock_error: Exception | None = None) -> None:
        super().__init__()
        self.lock_error = lock_error
        self.locked_with: list[tuple[str, ...]] = []

    def lock_screen(self, locker_command=(), budget=2.0) -> LockProof:
        if self.lock_error is not None:
            raise self.lock_error
        self.locked_with.append(tuple(locker_command))
        return LockProof("test", "seen by the test")


@pytest.fixture
def engine():
    started: list[tuple[Engine, threading.Thread]] = []

    def start(platform: Desk | None = None):
        statuses: list[Status] = []
        notified: list = []
        shown: list[bool] = []
        ctx = CheckContext(platform or Desk(), Config(), Journal.in_memory(), FakeClock(datetime.now().astimezone()))
        engine = Engine((Door, Broken), ctx, notify=notified.append, withdraw=lambda tag: None,
                        policy=AlertPolicy(Config().notifications, clock=ctx.clock), tr=FR, language="fr",
                        windows=None, on_status=statuses.append, on_show_status=lambda: shown.append(True),
                        locker_command=("i3lock", "-n"))
        thread = threading.Thread(target=engine.run, daemon=True)
        thread.start()
        started.append((engine, thread))
        return engine, statuses, notified, shown

    yield start
    for engine, thread in started:
        engine.submit(Stopped())
        thread.join(5)
        assert not thread.is_alive()


def test_an_event_reaches_the_features_that_declared_it_and_the_checks_it_triggers(engine):
    core, statuses, notified, _ = engine()
    door = core.features["door"]
    core.submit(Knocked())
    core.submit(VolumeAdded(Volume("/dev/sdb1", "/media/x", "vfat")))  # nobody declared it: nobody gets it
    harness.wait_for(lambda: statuses and statuses[-1].findings.get("os_updates"), timeout=5, what="the check")
    assert door.seen == [Knocked()]  # and the broken feature's bug did not keep it from the door
    finding = statuses[-1].findings["os_updates"]
    assert finding.facts["event"] == "Knocked"
    assert statuses[-1].menu_line == T("CPS card")
    harness.wait_for(lambda: notified, timeout=5, what="the warning's notification")
    buttons = [(b.label, b.action) for b in notified[0].buttons]
    assert buttons == [("Éjecter", "door:open"), ("Voir l’état", SHOW_STATUS)]


def test_a_feature_failing_on_an_event_logs_its_type_never_its_names(engine, caplog):
    core, statuses, _, _ = engine()
    core.submit(Knocked("Dupont Jeanne - compte rendu.pdf"))
    harness.wait_for(lambda: statuses and statuses[-1].findings.get("os_updates"), timeout=5, what="the check")
    assert "feature broken failed on Knocked" in caplog.text  # the bug is in the log, with its traceback
    assert "Dupont" not in caplog.text


def test_commands_are_routed_to_the_core_or_to_their_feature(engine):
    core, _, _, shown = engine()
    for action in ("door:open", SHOW_STATUS, "nobody:thing", "door"):
        core.submit(Command(action))
    harness.wait_for(lambda: shown, timeout=5, what="the status window asked for")
    harness.wait_for(lambda: core.features["door"].acts == ["open"], timeout=5, what="the door's action")


def test_a_lock_tells_the_features_at_once_and_a_failed_one_says_how_to_lock_by_hand(engine):
    core, _, _, _ = engine()
    core.submit(Command(LOCK_NOW))
    harness.wait_for(lambda: core.features["door"].seen == [SessionLocked()], timeout=5, what="SessionLocked")
    assert core.ctx.platform.locked_with == [("i3lock", "-n")]
    failing, _, notified, _ = engine(Desk(lock_error=NotSupported(T("No way to lock the screen was found on this "
                                                                      "computer."))))
    failing.submit(Command(LOCK_NOW))
    harness.wait_for(lambda: notified, timeout=5, what="the failure's notification")
    assert (notified[0].title, notified[0].severity) == ("Vigie n’a pas pu verrouiller l’écran", Severity.CRITICAL)
    assert notified[0].body.endswith("Super + L (ou Ctrl + Alt + L).")
    assert failing.features["door"].seen == []  # no SessionLocked for a lock that did not happen


def test_later_on_a_warning_then_the_reminder_insists(tmp_path):
    """« Plus tard » is on a warning's notification; pressed MAX_SNOOZES times, the next reminder has
    none, says why, and stays on screen (issue 18, point 7)."""
    from datetime import timedelta

    from vigie.snooze import MAX_SNOOZES, Snoozes

    clock = FakeClock(datetime.now().astimezone())
    journal = Journal(tmp_path / "journal.sqlite3")
    ctx = CheckContext(Desk(), Config(), journal, clock)
    snoozes = Snoozes(journal, clock, timedelta(hours=8))
    notified: list = []
    core = Engine((Door,), ctx, notify=notified.append, withdraw=lambda tag: None,
                  policy=AlertPolicy(Config().notifications, clock=clock, snoozes=snoozes), tr=FR, language="fr",
                  windows=None, on_status=lambda status: None, on_show_status=lambda: None)
    thread = threading.Thread(target=core.run, daemon=True)
    thread.start()
    try:
        for pressed in range(MAX_SNOOZES + 1):
            core.submit(Tick("os_updates"))
            harness.wait_for(lambda n=pressed + 1: len(notified) == n, timeout=5, what="the reminder")
            actions = [b.action for b in notified[-1].buttons]
            if pressed < MAX_SNOOZES:
                assert actions == ["door:open", SHOW_STATUS, "snooze:os_updates"]
                assert [b.label for b in notified[-1].buttons][-1] == "Plus tard"
                assert not notified[-1].insist
                core.submit(Command("snooze:os_updates"))
                harness.wait_for(lambda n=MAX_SNOOZES - pressed - 1: snoozes.left("os_updates") == n, timeout=5,
                                 what="the snooze")
                clock.advance(hours=8)
        assert "snooze:os_updates" not in actions and notified[-1].insist
        assert notified[-1].body.startswith("Déjà reporté 3\u00a0fois\u00a0: occupez-vous-en maintenant")
    finally:
        core.submit(Stopped())
        thread.join(5)
        journal.close()


class SlowDesk(Desk):
    """A lock that takes as long as the test wants: a real child process (the locker's stand-in) that
    the platform waits on, as the Linux locker path waits for its proof (issue 21: the engine never
    waits on a child process)."""

    def __init__(self) -> None:
        super().__init__()
        self.locker: subprocess.Popen | None = None

    def lock_screen(self, locker_command=(), budget=2.0) -> LockProof:
        self.locker = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
        self.locker.wait(30)  # until the test closes its stdin
        return super().lock_screen(locker_command, budget)


def test_the_engine_handles_other_events_while_a_lock_is_being_made(engine, caplog):
    caplog.set_level(logging.INFO, logger="vigie.engine")
    core, statuses, _, _ = engine(SlowDesk())
    platform = core.ctx.platform
    core.submit(Command(LOCK_NOW))
    harness.wait_for(lambda: platform.locker is not None, timeout=5, what="the locker to start")
    core.submit(Knocked())  # a drive, a card, a click: handled while the lock thread waits on its child
    harness.wait_for(lambda: core.features["door"].seen == [Knocked()], timeout=5, what="the event during the lock")
    harness.wait_for(lambda: statuses and statuses[-1].findings.get("os_updates"), timeout=5, what="its check")
    first = platform.locker
    core.submit(Command(LOCK_NOW))  # asked again meanwhile: one lock under way, not two
    harness.wait_for(lambda: "lock already under way" in caplog.text, timeout=5, what="the second request")
    assert platform.locker is first and first.poll() is None
    platform.locker.stdin.close()
    harness.wait_for(lambda: core.features["door"].seen == [Knocked(), SessionLocked()], timeout=10,
                     what="SessionLocked once the lock is proven")
    assert platform.locked_with == [("i3lock", "-n")]
