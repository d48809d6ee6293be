"""The os_updates feature: one passive check, nothing to watch; its button opens the OS's updater."""

from __future__ import annotations

import logging
from typing import ClassVar

from vigie.check import Check
from vigie.features.base import Feature
from vigie.features.os_updates.check import OPEN_UPDATER, OsUpdatesCheck
from vigie.model import Severity, T

log = logging.getLogger(__name__)
NO_UPDATER = T("Vigie could not open the updates window")


class OsUpdatesFeature(Feature):
    id: ClassVar[str] = "os_updates"
    checks: ClassVar[tuple[Check, ...]] = (OsUpdatesCheck(),)

    def act(self, action: str) -> None:
        if action == OPEN_UPDATER:
            self._open_updater()

    def _open_updater(self) -> None:
        from vigie.i18n import render
        from vigie.notify import Notification
        from vigie.platform import proc
        from vigie.platform.base import PlatformError

        services = self.services
        argv = services.platform.updater_command()
        try:
            if argv is None:
                raise PlatformError(T("No updates window was found on this computer."), "no updater")
            proc.launch_detached(argv)
        except PlatformError as exc:
            log.error("os updater not opened: %s", exc)
            services.notify(Notification(render(NO_UPDATER, services.tr), render(exc.reason, services.tr),
                                         Severity.WARNING))
