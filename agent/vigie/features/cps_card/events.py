"""What the CPS card watch saw (vigie.features.cps_card.watch)."""

from __future__ import annotations

from dataclasses import dataclass

from vigie.events import Event
from vigie.model import Text


@dataclass(frozen=True)
class CardInserted(Event):
    """A card that counts as the CPS card is in a reader (`initial`: it was already there when the
    watch started or came back after an outage, it was not just inserted)."""

    reader: str
    atr_hex: str
    initial: bool = False


@dataclass(frozen=True)
class CardRemoved(Event):
    """The CPS card left a reader: pulled out, or the reader itself was unplugged. `session_active`:
    this session was the one in use at the console then (False: another user's is, so the card was
    not this session's; None: the OS could not tell)."""

    reader: str
    atr_hex: str
    session_active: bool | None = None


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
