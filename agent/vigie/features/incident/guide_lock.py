"""One guide window per incident, whatever opened it: the tray (`vigie ui incident`, a child of the agent)
or `vigie incident` in a terminal (issue 19, point 4).

The guide holds an exclusive lock on incident-guide-ID.lock in the session's runtime folder (flock on
Linux and macOS, msvcrt on Windows: the system releases it when the process dies, kill -9 included).
A second opener does not get it: it asks the first window to come to the front by writing the current
time into incident-guide-ID.raise, which the guide looks at every half second (one stat call), then exits
saying the guide is already open. No signal is sent: a pid read from a file may belong to another
program by now. The runtime folder, not the incident's: the incident's folder moves to the archive when
the incident is closed from the guide, which Windows refuses while a file in it is open.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from filelock import FileLock, Timeout

from vigie import paths

log = logging.getLogger(__name__)


class GuideLock:
    def __init__(self, incident_id: str, folder: Path | None = None) -> None:
        self.folder = folder or paths.runtime_dir()
        self.path = self.folder / f"incident-guide-{incident_id}.lock"
        self.raise_path = self.folder / f"incident-guide-{incident_id}.raise"
        self._lock: FileLock | None = None

    def acquire(self) -> bool:
        """True: this process shows the guide. False: another one already does."""
        # No "soft" fallback (a lock file's mere presence): after a kill -9 it would keep the guide shut.
        lock = FileLock(self.path, mode=0o600, timeout=0, thread_local=False, fallback_to_soft=False)
        try:
            paths.private_dir(self.folder)
            lock.acquire()
        except Timeout:
            log.info("incident guide: already open (%s is held)", self.path.name)
            return False
        except OSError as exc:  # no runtime folder, a file system without locks: a guide rather than none
            log.warning("incident guide: single-window lock unavailable (%s); opening anyway", exc)
            return True
        self._lock = lock
        return True

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def ask_to_raise(self) -> None:
        """Ask the open guide to come to the front (it looks every half second)."""
        try:
            paths.private_dir(self.folder)
            fd = os.open(self.raise_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{time.time_ns()}\n")
        except OSError as exc:
            log.warning("incident guide: could not ask the open guide to come to the front: %s", exc)

    def raise_key(self) -> str | None:
        """Changes each time a second opener asks (the time it wrote; compared by the guide)."""
        try:
            return self.raise_path.read_text(encoding="ascii", errors="replace")
        except OSError:
            return None
