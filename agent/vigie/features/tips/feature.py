"""The tips feature: one short security tip a week, in plain words, never during a consultation."""

from __future__ import annotations

from typing import ClassVar

from vigie.events import Event, SessionUnlocked
from vigie.features.base import Feature, Services
from vigie.features.tips.events import TipDue


class TipsFeature(Feature):
    id: ClassVar[str] = "tips"
    handles: ClassVar[tuple[type[Event], ...]] = (TipDue, SessionUnlocked)

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        from vigie.features.tips.guard import TipsGuard  # the agent's part: not for `vigie check`

        self.guard = TipsGuard(services)

    def start(self) -> None:
        if self.services.config.tips.enabled:
            self.services.submit(TipDue())  # the guard reads the journal's schedule on the engine thread

    def handle(self, event: Event) -> None:
        self.guard.handle(event)

    def act(self, action: str) -> None:
        from vigie.features.tips.guard import DISMISS

        if action == DISMISS:
            self.guard.dismiss()
