"""Restore drills ended (they run on a thread of their own)."""

from __future__ import annotations

from dataclasses import dataclass

from vigie.events import Event


@dataclass(frozen=True)
class DrillFinished(Event):
    """Restore drills ended (one result per source); `manual` when the user asked for them."""

    results: tuple  # of vigie.features.backup.drill.DrillResult
    manual: bool
