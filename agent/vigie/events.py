"""Events that drive the engine: past-tense nouns for what happened, commands for what to do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class Event:
    """Base class of everything the engine consumes."""


@dataclass(frozen=True)
class Tick(Event):
    """The scheduler (or `vigie check`) asks a check to run now."""

    check_id: str | None = None  # None: every check


class CommandKind(Enum):
    LOCK_NOW = "lock_now"
    CHECK_NOW = "check_now"
    SHOW_STATUS = "show_status"


@dataclass(frozen=True)
class Command(Event):
    """Something the user asked for (tray menu, notification button)."""

    kind: CommandKind


@dataclass(frozen=True)
class Stopped(Event):
    """The agent is shutting down: the engine finishes the current event and returns."""
