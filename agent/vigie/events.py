"""The core events: past-tense nouns for what happened, commands for what to do.

Only what the core itself acts on, or what more than one feature needs to know, is here: the
session locked or unlocked, the user away or back, a drive plugged in or out. A feature's own
events live in its folder (features/<feature>/events.py) and reach only that feature.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vigie.model import Finding, Text

if TYPE_CHECKING:
    from vigie.config.schema import Config
    from vigie.platform.base import Volume


@dataclass(frozen=True)
class Event:
    """Base class of everything the engine consumes."""


@dataclass(frozen=True)
class Tick(Event):
    """The scheduler (or `vigie check`) asks a check to run now."""

    check_id: str | None = None  # None: every check


# The core's own commands; a feature's are "feature_id:action" (its menu items, its notification buttons).
LOCK_NOW = "lock_now"
CHECK_NOW = "check_now"
SHOW_STATUS = "show_status"


@dataclass(frozen=True)
class Command(Event):
    """Something the user asked for (tray menu, notification button): a core command or "feature:action"."""

    action: str


@dataclass(frozen=True)
class Stopped(Event):
    """The agent is shutting down: the engine finishes the current event and returns."""


@dataclass(frozen=True)
class CheckEvaluated(Event):
    """A check's new finding, from the checks thread (the engine applies it: status, notifications)."""

    check_id: str
    finding: Finding


@dataclass(frozen=True)
class SessionLocked(Event):
    """Vigie locked the screen and saw it locked (for whatever reason: idle, CPS card, the menu)."""


@dataclass(frozen=True)
class LockFailed(Event):
    """Vigie tried to lock the screen and did not see it locked: the session is still open."""

    reason: Text


@dataclass(frozen=True)
class SessionUnlocked(Event):
    """The session is in use again after a lock Vigie knows of: its own locker exited, or the user
    came back after an automatic lock."""


@dataclass(frozen=True)
class UserIdle(Event):
    """Nobody has used the computer for a while (the idle reminder is up)."""


@dataclass(frozen=True)
class UserActive(Event):
    """Someone used the computer again before it was locked."""


@dataclass(frozen=True)
class VolumeAdded(Event):
    """A removable file system was mounted."""

    volume: Volume


@dataclass(frozen=True)
class VolumeRemoved(Event):
    """A removable file system went away (unmounted or pulled out)."""

    volume: Volume


@dataclass(frozen=True)
class MountChangeUnseen(Event):
    """Mounts changed and changed back between two looks: a drive may have been plugged in and out
    too fast to be identified. Only Linux tells; which mount it was, nobody can tell any more."""


@dataclass(frozen=True)
class SettingsChanged(Event):
    """The settings were read again while the agent runs (vigie.settings_watch): the engine takes them, then
    hands this to the features that declared it, which apply what they keep (the idle delays…)."""

    config: Config
    language: str
    tr: gettext.NullTranslations
    locker_command: tuple[str, ...] = ()
