"""Events that drive the engine: past-tense nouns for what happened, commands for what to do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from vigie.model import Finding, Text
from vigie.platform.base import ScanResult, Volume


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
    RUN_DRILL = "run_drill"  # « Tester ma sauvegarde »
    EJECT_BACKUP_DRIVE = "eject_backup_drive"
    INCIDENT = "incident"  # « Je pense être attaqué »


@dataclass(frozen=True)
class Command(Event):
    """Something the user asked for (tray menu, notification button)."""

    kind: CommandKind


@dataclass(frozen=True)
class Stopped(Event):
    """The agent is shutting down: the engine finishes the current event and returns."""


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


@dataclass(frozen=True)
class CheckEvaluated(Event):
    """A check's new finding, from the checks thread (the engine applies it: status, notifications)."""

    check_id: str
    finding: Finding


@dataclass(frozen=True)
class IncidentChanged(Event):
    """An incident was opened or closed, or its countdowns moved on: refresh the tooltip."""


@dataclass(frozen=True)
class SessionUnlocked(Event):
    """A lock made by Vigie ended (its own locker exited), whatever locked it (idle, CPS card)."""


@dataclass(frozen=True)
class VolumeAdded(Event):
    """A removable file system was mounted."""

    volume: Volume


@dataclass(frozen=True)
class VolumeRemoved(Event):
    """A removable file system went away (unmounted or pulled out)."""

    volume: Volume


@dataclass(frozen=True)
class VolumeChoice(Event):
    """What the user chose in the USB pop-up: known, eject, scan or close."""

    volume: Volume
    choice: str


@dataclass(frozen=True)
class VolumeScanned(Event):
    """An antivirus scan of a volume ended: a result, or the reason it could not be done."""

    volume: Volume
    result: ScanResult | None
    error: Text | None = None


@dataclass(frozen=True)
class DrillFinished(Event):
    """Restore drills ended (one result per source); `manual` when the user asked for them."""

    results: tuple  # of vigie.features.backup.drill.DrillResult
    manual: bool


# --- the CPS card watch (vigie.features.cps_card.watch) ---------------------------------------------

@dataclass(frozen=True)
class CardInserted(Event):
    """A card that counts as the CPS card is in a reader (`initial`: it was already there when the
    watch started or came back after an outage, it was not just inserted)."""

    reader: str
    atr_hex: str
    initial: bool = False


@dataclass(frozen=True)
class CardRemoved(Event):
    """The CPS card left a reader: pulled out, or the reader itself was unplugged."""

    reader: str
    atr_hex: str


@dataclass(frozen=True)
class CardReaders(Event):
    """The watch is connected; these are the readers now (sent at start, after an outage, on change).
    An empty tuple: the service runs but no reader is plugged in."""

    readers: tuple[str, ...]


@dataclass(frozen=True)
class CardWatchLost(Event):
    """The smart-card service went away: card changes are not seen until CardWatchRestored."""

    reason: Text


@dataclass(frozen=True)
class CardWatchRestored(Event):
    """The smart-card service is back after CardWatchLost (CardReaders and the card state follow)."""


@dataclass(frozen=True)
class CardPolicyDue(Event):
    """The card policy asked to be ticked now (a delayed lock, the end-of-day reminder)."""
