"""The setup assistant (issue 18, point 1): a window opened at the agent's first start, and again from
the menu (« Assistant de démarrage… »), where a clinician enrolls the backup, the CPS card, the contacts
and the lock delay without a terminal. The window (window.py) runs in a child process; this module stays
light (no Tk) because the agent imports it.

Whether the assistant was already shown is kept in the journal: the window records JOURNAL_KIND with
event "closed" or "finished" when the user closes it; from then on it opens only from the menu. A window
ended by the agent itself (Quit) does not count: it opens again at the next start.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from vigie.features.base import Feature, MenuItem, Window
from vigie.features.first_run.menu import MENU, OPEN
from vigie.features.first_run.windows import ASSISTANT, WINDOW

log = logging.getLogger(__name__)
JOURNAL_KIND = "first_run"  # events: {"event": "saved", "step": …}, {"event": "closed" | "finished"}
ENDED = ("closed", "finished")
BACKUP = "backup"  # the action that opens the assistant at its backup step (backup/actions.py)
BACKUP_PAGE = "backup_folder"


def was_closed(journal) -> bool:
    """The user closed or finished the assistant once: it no longer opens by itself."""
    return any(data.get("event") in ENDED for _at, _kind, data in journal.events(JOURNAL_KIND))


class FirstRunFeature(Feature):
    id: ClassVar[str] = "first_run"
    menu: ClassVar[tuple[MenuItem, ...]] = MENU
    windows: ClassVar[tuple[Window, ...]] = (ASSISTANT,)

    def start(self) -> None:
        if not self.services.config.first_run.enabled:
            return
        if was_closed(self.services.journal):
            log.info("setup assistant already shown: it opens from the menu only")
            return
        log.info("first start: opening the setup assistant")
        self._open()

    def act(self, action: str) -> None:
        if action == OPEN:
            self._open()
        elif action == BACKUP:  # « Mettre en place une sauvegarde » on a backup card of the status window
            self._open("--page", BACKUP_PAGE)

    def _open(self, *args: str) -> None:
        self.services.windows.open(WINDOW, "--lang", self.services.language, *args)
