"""The cps_card feature: lock when the CPS card is pulled out, remind when it is left in the reader."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from vigie.check import Check
from vigie.events import Event, SessionLocked, SessionUnlocked, SettingsChanged, UserActive, UserIdle
from vigie.features.base import CliContext, Feature, Services
from vigie.features.cps_card.check import CpsCardCheck, card_match
from vigie.features.cps_card.events import (
    CardInserted,
    CardPolicyDue,
    CardReaders,
    CardRemoved,
    CardWatchLost,
    CardWatchRestored,
)
from vigie.model import Finding, Text

if TYPE_CHECKING:
    from vigie.features.cps_card.guard import CpsGuard


class CpsCardFeature(Feature):
    id: ClassVar[str] = "cps_card"
    checks: ClassVar[tuple[Check, ...]] = (CpsCardCheck(),)
    handles: ClassVar[tuple[type[Event], ...]] = (CardInserted, CardRemoved, CardReaders, CardWatchLost,
                                                   CardWatchRestored, CardPolicyDue,
                                                   SessionLocked, SessionUnlocked, UserIdle, UserActive,
                                                   SettingsChanged)
    command: ClassVar[str | None] = "cps"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.guard: CpsGuard | None = None
        self.watcher = None

    @staticmethod
    def add_cli(sub: argparse._SubParsersAction) -> None:
        from vigie.features.cps_card import cli

        cli.add_parser(sub)

    @staticmethod
    def run_cli(args: argparse.Namespace, cli: CliContext) -> int:
        from vigie.features.cps_card import cli as cps_cli

        return cps_cli.run_command(args, cli.loaded, cli.tr)

    def start(self) -> None:
        """The card watch, when enabled (no reader or no smart-card service yet is fine: it waits)."""
        settings = self.services.config.cps_card
        if not settings.enabled:
            return
        from vigie.features.cps_card.guard import CpsGuard
        from vigie.features.cps_card.watch import CardWatcher

        self.guard = CpsGuard(self.services)
        self.watcher = CardWatcher(self.services.submit, card_match(settings),
                                   session_active=self.services.platform.session_active)
        threading.Thread(target=self.watcher.run, name="vigie-cps", daemon=True).start()

    def handle(self, event: Event) -> None:
        if self.guard is not None:
            self.guard.handle(event)

    def menu_line(self, findings: Mapping[str, Finding]) -> Text | None:
        """« Carte CPS : dans le lecteur », only while a reader is watched."""
        card = findings.get(CpsCardCheck.id)
        return card.title if card is not None and card.facts.get("available") else None

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
