"""The backup feature: how old the newest backup is, a backup drive left plugged in, restore drills."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, ClassVar

from vigie.check import Check
from vigie.events import CheckEvaluated, Event
from vigie.features.backup.actions import DRILL
from vigie.features.backup.backup_age import BackupAgeCheck
from vigie.features.backup.backup_drive import EJECT, BackupDriveCheck
from vigie.features.backup.events import DrillFinished
from vigie.features.backup.menu import MENU
from vigie.features.backup.restore_drill import RestoreDrillCheck
from vigie.features.base import CliContext, Feature, MenuItem, Services
from vigie.platform.base import Volume

if TYPE_CHECKING:
    from vigie.features.backup.guard import BackupGuard


class BackupFeature(Feature):
    id: ClassVar[str] = "backup"
    checks: ClassVar[tuple[Check, ...]] = (BackupAgeCheck(), BackupDriveCheck(), RestoreDrillCheck())
    handles: ClassVar[tuple[type[Event], ...]] = (DrillFinished, CheckEvaluated)
    menu: ClassVar[tuple[MenuItem, ...]] = MENU
    command: ClassVar[str | None] = "backup"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.guard: BackupGuard | None = None

    @staticmethod
    def add_cli(sub: argparse._SubParsersAction) -> None:
        from vigie.features.backup import cli

        cli.add_parser(sub)

    @staticmethod
    def run_cli(args: argparse.Namespace, cli: CliContext) -> int:
        from vigie.features.backup import cli as backup_cli

        return backup_cli.run_command(args, cli.loaded, cli.tr)

    def start(self) -> None:
        from vigie.features.backup.guard import BackupGuard  # the agent's part: not for `vigie check`

        self.guard = BackupGuard(self.services)  # removes copies an interrupted drill left behind

    def stop(self) -> None:
        if self.guard is not None:
            self.guard.stop()

    def handle(self, event: Event) -> None:
        if self.guard is None:
            return
        if isinstance(event, CheckEvaluated):
            self.guard.drill_due(event.check_id, dict(event.finding.facts))
        elif isinstance(event, DrillFinished):
            self.guard.drill_finished(event)

    def act(self, action: str) -> None:
        if self.guard is None:
            return
        if action == DRILL:
            self.guard.start_drill(manual=True)
        elif action == EJECT:
            self.guard.eject_drive()

    def claims_volume(self, volume: Volume) -> bool:
        return self.guard is not None and self.guard.is_enrolled_drive(volume)

    def wants_volume_events(self) -> bool:
        config = self.services.config
        return config.backup_drive.enabled and bool(config.backup_age.destinations)
