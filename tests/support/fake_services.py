"""A Services that records what a feature asks of the core, for the guards' unit tests.

Everything here is a stand-in for the core (engine, notifier, child windows), never for the OS
itself, except FakePlatform: the few OS answers a guard reads (screen locked? eject, scan), set by
the test. The journal is Vigie's real one, in memory. No display, no D-Bus, no thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vigie.config.schema import Config
from vigie.events import Event
from vigie.features.base import Services
from vigie.i18n import render, translator
from vigie.journal import Journal
from vigie.model import T, Text
from vigie.notify import Notification
from vigie.platform.base import PlatformError, ScanResult, Volume

FR = translator("fr")


class FakeClock:
    """Local wall-clock time that moves only when the test says so."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


LINUX_SHORTCUT = T("Super + L (or Ctrl + Alt + L)")


@dataclass
class FakePlatform:
    name: str = "linux"
    lock_shortcut: Text = LINUX_SHORTCUT
    locked: bool | None = False
    volumes: list[Volume] = field(default_factory=list)
    eject_error: PlatformError | None = None
    ejected: list[Volume] = field(default_factory=list)
    can_scan: bool = True
    media: bool | None = False  # a camera or microphone in use (a teleconsultation)

    def screen_locked(self) -> bool | None:
        return self.locked

    def media_in_use(self) -> bool | None:
        return self.media

    def mounted_volumes(self) -> list[Volume]:
        return list(self.volumes)

    def eject(self, volume: Volume) -> None:
        if self.eject_error is not None:
            raise self.eject_error
        self.ejected.append(volume)
        self.volumes.remove(volume)

    def scanner_available(self) -> bool:
        return self.can_scan

    def scan_volume(self, volume: Volume, timeout: float) -> ScanResult:
        raise AssertionError("scans run on a thread of their own: not in these tests")


@dataclass
class FakeWindows:
    opened: list[tuple[str, tuple[str, ...], str | None]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    listeners: dict[str, object] = field(default_factory=dict)

    def open(self, name: str, *args: str, window: str | None = None, on_message=None) -> None:
        self.opened.append((name, args, window))
        self.listeners[name] = on_message

    def close(self, name: str) -> None:
        self.closed.append(name)

    def count_open(self, prefix: str) -> int:
        return sum(1 for name, _, _ in self.opened if name.startswith(prefix) and name not in self.closed)


class Recorder:
    """Builds a Services whose every call is recorded here."""

    def __init__(self, config: Config | None = None, platform: FakePlatform | None = None,
                 clock: FakeClock | None = None) -> None:
        self.config = config or Config()
        self.platform = platform or FakePlatform()
        self.clock = clock or FakeClock(datetime(2026, 12, 2, 10, 0).astimezone())
        self.journal = Journal.in_memory()
        self.windows = FakeWindows()
        self.submitted: list[Event] = []
        self.notifications: list[Notification] = []
        self.withdrawn: list[str] = []
        self.locks = 0
        self.notes: dict[str, Text] = {}
        self.checks_run: list[str] = []
        self.planned: dict[str, tuple[float | None, Event]] = {}
        self.findings: dict = {}
        self.claimed: set[str] = set()  # mount points another feature says are its own

    def services(self) -> Services:
        return Services(
            submit=self.submitted.append, notify=self.notifications.append, withdraw=self.withdrawn.append,
            lock_now=self._lock, set_note=self._note, run_checks=self.checks_run.extend, plan=self._plan,
            findings=lambda: dict(self.findings), volume_claimed=lambda v: v.mount_point in self.claimed,
            windows=self.windows, journal=self.journal, platform=self.platform, config=self.config,
            clock=self.clock, tr=FR, language="fr",
        )

    def said(self) -> list[tuple[str, str]]:
        """The notifications as the user read them: (title, body)."""
        return [(n.title, n.body) for n in self.notifications]

    def note(self, key: str) -> str | None:
        return render(self.notes[key], FR) if key in self.notes else None

    def _lock(self) -> None:
        self.locks += 1

    def _note(self, key: str, text: Text | None) -> None:
        if text is None:
            self.notes.pop(key, None)
        else:
            self.notes[key] = text

    def _plan(self, key: str, seconds: float | None, event: Event) -> None:
        if seconds is None:
            self.planned.pop(key, None)
        else:
            self.planned[key] = (seconds, event)
