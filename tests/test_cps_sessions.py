"""The CPS card and several sessions (issue 15, point 17): pcscd is one per machine, so every
session's Vigie sees every card. A card pulled out locks only the session in use at the console.

Real parts: pcscd with vpcd virtual readers and cards (tests/support/pcsc.py). No logind runs here
(this machine was not booted with systemd): "is our session the active one" comes from a stand-in
answering logind's D-Bus interface on a private system bus (tests/support/logind_service.py).
Windows and macOS: their one OS call each is replaced; the rest is Vigie's code."""

from __future__ import annotations

import queue
import threading

import pytest

import harness
from support.fake_services import Recorder
from support.logind_service import LogindStandIn
from support.pcsc import CPS_ATR, READERS
from vigie.config.schema import Config, CpsCard
from vigie.features.cps_card.events import CardInserted, CardRemoved
from vigie.features.cps_card.guard import CpsGuard
from vigie.features.cps_card.watch import CardWatcher
from vigie.platform import macos, windows
from vigie.platform.linux import LinuxPlatform
from vigie.platform.pcsc import normalise_atr

ATR = normalise_atr(CPS_ATR)


@pytest.fixture
def logind(home_env, services, monkeypatch):
    """The logind stand-in, and this process pointed at it (the platform reads the environment)."""
    stand_in = LogindStandIn(services, home_env, "c2")
    for key in ("DBUS_SYSTEM_BUS_ADDRESS", "XDG_SESSION_ID"):
        monkeypatch.setenv(key, home_env[key])
    return stand_in


def test_logind_says_whether_our_session_is_the_active_one(logind, monkeypatch):
    assert LinuxPlatform().session_active() is True
    logind.set("Active", False)  # another user switched to their own session
    assert LinuxPlatform().session_active() is False
    monkeypatch.delenv("XDG_SESSION_ID")  # found by our pid instead
    assert LinuxPlatform().session_active() is False


def test_without_logind_nobody_can_tell(home_env, monkeypatch, caplog):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={home_env['XDG_RUNTIME_DIR']}/no-system-bus")
    with caplog.at_level("INFO"):
        assert LinuxPlatform().session_active() is None
    assert "logind: cannot tell whether this session is the one in use" in caplog.text


def test_each_removal_says_whether_this_session_was_in_use(pcscd, logind):
    events: queue.Queue = queue.Queue()
    watcher = CardWatcher(events.put, session_active=LinuxPlatform().session_active)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        for active in (False, True):
            logind.set("Active", active)
            card = pcscd.insert(CPS_ATR)
            harness.wait_for(lambda: watcher.cards, timeout=5, what="the card seen")
            pcscd.pull(card)
            removed = next(e for e in iter(lambda: events.get(timeout=5), None) if isinstance(e, CardRemoved))
            assert removed == CardRemoved(READERS[0], ATR, session_active=active)
    finally:
        assert watcher.stop()
        thread.join(2)


def card_guard() -> tuple[CpsGuard, Recorder]:
    core = Recorder(config=Config(cps_card=CpsCard()))
    return CpsGuard(core.services()), core


def test_a_card_pulled_out_at_another_session_locks_nothing_here(caplog):
    guard, core = card_guard()
    guard.handle(CardInserted(READERS[0], ATR))
    with caplog.at_level("INFO"):
        guard.handle(CardRemoved(READERS[0], ATR, session_active=False))
    assert core.locks == 0
    assert "this session is not the one in use at the console: not locked" in caplog.text
    guard.handle(CardInserted(READERS[0], ATR))
    guard.handle(CardRemoved(READERS[0], ATR, session_active=True))  # back in this session: the lock
    assert core.locks == 1


def test_when_the_os_cannot_tell_the_card_locks_as_always_and_says_so(caplog):
    guard, core = card_guard()
    with caplog.at_level("INFO"):
        guard.handle(CardRemoved(READERS[0], ATR, session_active=None))
    assert core.locks == 1
    assert "the OS cannot tell which session is in use: locking this one, as always" in caplog.text


@pytest.mark.parametrize(("console", "ours", "remote", "expected"), [
    (1, 1, False, True),  # the session at the screen
    (2, 1, False, False),  # switched away from: the console is another user's
    (0xFFFFFFFF, 1, False, False),  # no session at the console (a switch under way)
    (1, 3, True, True),  # Remote Desktop: its readers are the client's own (redirected)
])
def test_windows_session_at_the_console(console, ours, remote, expected):
    assert windows.session_at_console(console, ours, remote) is expected


def test_windows_session_active_around_its_os_call(monkeypatch):
    """ProcessIdToSessionId, WTSGetActiveConsoleSessionId and GetSystemMetrics are Windows only:
    session_ids() is replaced; WindowsPlatform.session_active is Vigie's code."""
    monkeypatch.setattr(windows, "session_ids", lambda: (2, 1, False))
    assert windows.WindowsPlatform().session_active() is False
    monkeypatch.setattr(windows, "session_ids", lambda: (1, 1, False))
    assert windows.WindowsPlatform().session_active() is True

    def fails():
        raise OSError("no such call here")

    monkeypatch.setattr(windows, "session_ids", fails)
    assert windows.WindowsPlatform().session_active() is None


def test_macos_session_on_console_around_its_os_call(monkeypatch):
    """CGSessionCopyCurrentDictionary is macOS only: quartz_session() is replaced."""
    monkeypatch.setattr(macos, "quartz_session", lambda: {"kCGSSessionOnConsoleKey": 0})
    assert macos.MacPlatform().session_active() is False
    monkeypatch.setattr(macos, "quartz_session", lambda: {"kCGSSessionOnConsoleKey": 1, "CGSSessionScreenIsLocked": 1})
    assert macos.MacPlatform().session_active() is True and macos.MacPlatform().screen_locked() is True
    monkeypatch.setattr(macos, "quartz_session", lambda: None)
    assert macos.MacPlatform().session_active() is None
