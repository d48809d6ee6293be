"""An incident opened, closed or its countdowns moved on."""

from __future__ import annotations

from dataclasses import dataclass

from vigie.events import Event


@dataclass(frozen=True)
class IncidentChanged(Event):
    """An incident was opened or closed, or its countdowns moved on: refresh the tooltip."""


