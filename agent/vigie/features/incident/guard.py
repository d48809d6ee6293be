"""Incident guard: « Vous pensez être victime d'une attaque ? » (or « Reprendre le guide ») from the tray, and
the tooltip's countdowns while one is open.

Threading rules: every method runs on the engine thread; the guide is a child window whose
"closed" message comes back as IncidentChanged through the engine's queue, as does any change of the
incident's state on disk, whoever made it (watch.py).

A full disk: the detection time stays in memory here (and on disk if it fits, see state.py), the
user is told in a notification, and every RETRY_SECONDS the incident is saved again until it is.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from vigie.features.base import Services
from vigie.features.incident.events import IncidentChanged
from vigie.features.incident.menu import NOTE_KEY
from vigie.i18n import render
from vigie.model import Severity, T, Text
from vigie.notify import Notification

if TYPE_CHECKING:
    from vigie.features.incident.state import IncidentNotSaved

log = logging.getLogger(__name__)
REFRESH_SECONDS = 60.0
RETRY_SECONDS = 10.0  # an incident not saved yet: try again soon after space comes back


class IncidentGuard:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.unsaved: IncidentNotSaved | None = None  # the detection the disk refused, kept in memory

    def open_guide(self) -> None:
        """The detection time is recorded first, then the guide opens (not while the disk refuses it:
        the guide could not save a thing; the notification says what to do)."""
        if self._save(self.unsaved.detected_at if self.unsaved else self._now()) is not False:
            services = self.services
            services.windows.open("incident", "--lang", services.language,
                                  on_message=lambda message: services.submit(IncidentChanged())
                                  if message == "closed" else None)
        self.refresh()

    def refresh(self) -> None:
        """While an incident is open the tooltip counts down its two 72-hour deadlines, every minute; one the
        disk refused is saved again every RETRY_SECONDS, and counts down meanwhile."""
        if self.unsaved is not None and self._save(self.unsaved.detected_at) is True:
            self._saved_at_last(self.unsaved.detected_at)
            self.unsaved = None
        summary, waiting = self.summary()
        self.services.set_note(NOTE_KEY, summary)
        delay = (RETRY_SECONDS if waiting else REFRESH_SECONDS) if summary else None
        self.services.plan(NOTE_KEY, delay, IncidentChanged())

    def summary(self) -> tuple[Text | None, bool]:
        """The tooltip line, and whether the incident still waits to be saved."""
        from vigie.features.incident.deadlines import summary
        from vigie.features.incident.state import IncidentNotSaved, IncidentStore

        now = self._now()
        try:
            incident = IncidentStore().find_open()  # saves a detection kept on disk, if there is room now
        except IncidentNotSaved as exc:
            return summary(exc.detected_at, now, exc.short_reason), True
        except Exception:  # a damaged incident file must not take the tooltip down
            log.exception("incident: summary unavailable")
            return None, False
        if incident is not None:
            return summary(incident.detected_at, now), False
        if self.unsaved is not None:  # kept in memory only
            return summary(self.unsaved.detected_at, now, self.unsaved.short_reason), True
        return None, False

    def _save(self, detected_at: datetime) -> bool | None:
        """Open (or resume) the incident. True: saved; False: the disk refused it (the user is told once,
        the time kept in memory); None: another error (logged)."""
        from vigie.features.incident.contacts import configured_contacts
        from vigie.features.incident.state import IncidentNotSaved, start_incident

        try:
            start_incident(detected_at, configured_contacts(self.services.config))
        except IncidentNotSaved as exc:
            if self.unsaved is None:
                tr = self.services.tr
                self.services.notify(Notification(render(T("Vigie could not save the incident"), tr),
                                                  render(exc.reason, tr), Severity.CRITICAL, tag=NOTE_KEY))
            self.unsaved = exc
            return False
        except Exception:  # the guide records it too; the window must open whatever happens here
            log.exception("incident: could not record the detection time")
            return None
        return True

    def _saved_at_last(self, detected_at: datetime) -> None:
        from vigie.features.incident.state import when_text

        tr = self.services.tr
        self.services.withdraw(NOTE_KEY)
        self.services.notify(Notification(
            render(T("The incident is saved"), tr),
            render(T("There is room on the disk again. Vigie saved the incident detected on {when}: you can open "
                     "the guide.", when=when_text(detected_at)), tr),
            Severity.WARNING, tag=NOTE_KEY))

    def _now(self) -> datetime:
        return self.services.clock()
