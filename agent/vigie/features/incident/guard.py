"""Incident guard: « Je pense être attaqué » from the tray, and the tooltip's countdowns while one is open.

Threading rules: every method runs on the engine thread; the guide is a child window whose
"closed" message comes back as IncidentChanged through the engine's queue.
"""

from __future__ import annotations

import logging
from datetime import datetime

from vigie.features.base import Services
from vigie.features.incident.events import IncidentChanged
from vigie.model import Text

log = logging.getLogger(__name__)
REFRESH_SECONDS = 60.0
NOTE_KEY = "incident"


class IncidentGuard:
    def __init__(self, services: Services) -> None:
        self.services = services

    def open_guide(self) -> None:
        """The detection time is recorded first, then the guide opens."""
        from vigie.features.incident import start_incident
        from vigie.features.incident.contacts import configured_contacts

        services = self.services
        try:
            start_incident(self._now(), configured_contacts(services.config))
        except Exception:  # the guide records it too; the window must open whatever happens here
            log.exception("incident: could not record the detection time")
        services.windows.open("incident", "--lang", services.language,
                              on_message=lambda message: services.submit(IncidentChanged())
                              if message == "closed" else None)
        self.refresh()

    def refresh(self) -> None:
        """While an incident is open the tooltip counts down its two 72-hour deadlines, every minute."""
        summary = self.summary()
        self.services.set_note(NOTE_KEY, summary)
        self.services.plan(NOTE_KEY, REFRESH_SECONDS if summary else None, IncidentChanged())

    def summary(self) -> Text | None:
        from vigie.features.incident import open_incident_summary

        try:
            return open_incident_summary(self._now())
        except Exception:  # a damaged incident file must not take the tooltip down
            log.exception("incident: summary unavailable")
            return None

    def _now(self) -> datetime:
        return self.services.clock()
