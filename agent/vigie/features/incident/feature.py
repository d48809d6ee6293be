"""The incident feature: « Vous pensez être victime d'une attaque ? », an offline guide, evidence and a report.
While an incident is open the menu offers « Reprendre le guide » in place of the question."""

from __future__ import annotations

import argparse
from typing import ClassVar

from vigie.events import Event
from vigie.features.base import CliContext, Feature, MenuItem, Services, Window
from vigie.features.incident.events import IncidentChanged
from vigie.features.incident.menu import MENU, OPEN
from vigie.features.incident.windows import GUIDE


class IncidentFeature(Feature):
    id: ClassVar[str] = "incident"
    handles: ClassVar[tuple[type[Event], ...]] = (IncidentChanged,)
    menu: ClassVar[tuple[MenuItem, ...]] = MENU
    windows: ClassVar[tuple[Window, ...]] = (GUIDE,)
    command: ClassVar[str | None] = "incident"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        from vigie.features.incident.guard import IncidentGuard  # the agent's part: not for `vigie check`
        from vigie.features.incident.watch import IncidentWatch

        self.guard = IncidentGuard(services)
        self.watch = IncidentWatch(services.submit)

    @staticmethod
    def add_cli(sub: argparse._SubParsersAction) -> None:
        from vigie.features.incident import cli

        cli.add_parser(sub)

    @staticmethod
    def run_cli(args: argparse.Namespace, cli: CliContext) -> int:
        from vigie.features.incident import cli as incident_cli  # loads the settings only where it needs them

        return incident_cli.run_command(args)

    def start(self) -> None:
        self.services.submit(IncidentChanged())  # an incident may still be open from before
        self.watch.start()

    def stop(self) -> None:
        self.watch.stop()

    def handle(self, event: Event) -> None:
        self.guard.refresh()

    def act(self, action: str) -> None:
        if action == OPEN:
            self.guard.open_guide()
