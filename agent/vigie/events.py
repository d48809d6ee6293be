"""Events that drive the checks. Past-tense nouns for things that happened."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Base class of everything that can trigger a check."""


@dataclass(frozen=True)
class Tick(Event):
    """The scheduler (or `vigie check`) asks a check to run now."""

    check_id: str | None = None  # None: every check
