"""The agent follows the incident's state on disk, whoever changes it: the guide opened from the tray,
`vigie incident` or `vigie incident close` in a terminal, the IT provider's `vigie incident network`
(issue 19, point 4).

A thread of its own looks every WATCH_SECONDS at a signature of the incidents folder: its entries, the
stat of each incident.json (replaced atomically at every change: a new inode each time), and the
detection times kept while the disk was full. When it changes, IncidentChanged goes to the engine,
whose guard reads the incident again (tooltip, menu). Cost: two folder listings and one stat per incident
folder, about 0.14 ms, twice a second (0.03 % of one core); no inotify, so it is the same on every OS.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from vigie.events import Event
from vigie.features.incident.events import IncidentChanged
from vigie.features.incident.state import STATE_FILE, IncidentStore, is_incident_name, is_pending_name

log = logging.getLogger(__name__)
WATCH_SECONDS = 0.5  # the tooltip follows `vigie incident` within 2 s


def _entries(folder: Path, keep: Callable[[str], bool]) -> list[str]:
    try:
        with os.scandir(folder) as listing:
            return [entry.name for entry in listing if keep(entry.name)]
    except OSError:
        return []


def signature(store: IncidentStore) -> tuple:
    """Changes whenever an incident is opened, changed, closed (moved away) or kept while the disk is full."""
    found: list[tuple] = [("pending", name) for name in _entries(store.root.parent, is_pending_name)]
    for name in _entries(store.root, lambda n: is_incident_name(n) or is_pending_name(n)):
        try:
            st = os.stat(store.root / name / STATE_FILE)
            found.append((name, st.st_mtime_ns, st.st_ino, st.st_size))
        except OSError:
            found.append((name,))
    return tuple(sorted(found))


class IncidentWatch:
    def __init__(self, submit: Callable[[Event], None], store: IncidentStore | None = None,
                 interval: float = WATCH_SECONDS) -> None:
        self.submit, self.store, self.interval = submit, store or IncidentStore(), interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="vigie-incident-watch", daemon=True)
        self._thread.start()

    def run(self) -> None:
        last = signature(self.store)
        while not self._stop.wait(self.interval):
            try:
                now = signature(self.store)
            except Exception:  # the watch must outlive a surprise; the next look tries again
                log.exception("incident watch: cannot read the incidents folder")
                continue
            if now != last:
                last = now
                log.info("incident watch: the incident's state changed on disk")
                self.submit(IncidentChanged())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
