"""The tips feature's own event."""

from __future__ import annotations

from dataclasses import dataclass

from vigie.events import Event


@dataclass(frozen=True)
class TipDue(Event):
    """Time to look whether a tip is due (at start, then by the feature's own timer)."""
