"""What the idle watch saw; the idle guard turns them into reminders, locks and core events."""

from __future__ import annotations

from dataclasses import dataclass

from vigie.events import Event


@dataclass(frozen=True)
class IdleReminderDue(Event):
    """Nobody has touched the computer for a while: warn before locking."""

    seconds_left: int


@dataclass(frozen=True)
class IdleEnded(Event):
    """Someone used the computer again: withdraw the reminder, end a postponement."""


@dataclass(frozen=True)
class IdleLockDue(Event):
    """The idle time reached the lock threshold: lock now."""


@dataclass(frozen=True)
class IdleLockPostponed(Event):
    """The lock threshold was reached but a camera or microphone is in use (a teleconsultation)."""


@dataclass(frozen=True)
class UserReturned(Event):
    """Someone is using the computer again after Vigie locked it."""
