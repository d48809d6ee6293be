"""The contract every hygiene check follows.

A check never touches the OS itself: it asks the Platform (through the context), reads its own
configuration section, and returns one Finding. It must be safe to call from the engine thread;
it keeps no state between calls other than what it puts in the journal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from vigie.config.schema import Config
from vigie.events import Event
from vigie.journal import Journal
from vigie.model import Finding, Text
from vigie.platform.base import Platform


@dataclass(frozen=True)
class CheckContext:
    platform: Platform
    config: Config
    journal: Journal
    clock: Callable[[], datetime]  # injected so checks are tested without patching time


class Check(Protocol):
    id: ClassVar[str]  # = module name = config section
    label: ClassVar[Text]  # what is checked, for the status table
    triggers: ClassVar[tuple[type[Event], ...]]

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding: ...
