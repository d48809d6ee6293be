"""Runs restore drills off the engine thread (a drill restores files: seconds to minutes).

Threading rules: start() is called on the engine thread; the drill thread only reads the backup
and its own temporary folder, then hands the results back as one DrillFinished event. The
journal is written by the engine when it handles that event, never from the drill thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vigie.config.schema import Config
from vigie.events import Event
from vigie.features.backup import drill, sources
from vigie.features.backup.events import DrillFinished
from vigie.model import T
from vigie.platform.base import Platform

log = logging.getLogger(__name__)


class DrillRunner:
    def __init__(self, platform: Platform, config: Config, submit: Callable[[Event], None]) -> None:
        self.platform = platform
        self.config = config
        self.submit = submit
        self._thread: threading.Thread | None = None
        drill.remove_leftovers()  # copies left by a drill the last agent could not finish

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def available(self) -> list[drill.Drillable]:
        settings = self.config.backup_age
        return drill.drillable_sources(settings.destinations, settings.repositories, sources.mounted(self.platform),
                                       self.config.restore_drill.timeout_minutes * 60)

    def start(self, manual: bool) -> bool:
        """Start drills on every source reachable now; False when one is running or none is reachable."""
        if self.running:
            log.info("drill: already running")
            return False
        targets = self.available()
        if not targets:
            log.info("drill: no backup reachable now")
            return False
        count = self.config.restore_drill.files
        self._thread = threading.Thread(target=self._run, args=(targets, count, manual), name="vigie-drill",
                                        daemon=True)
        self._thread.start()
        return True

    def _run(self, targets: list[drill.Drillable], count: int, manual: bool) -> None:
        results = []
        for target in targets:
            try:
                results.append(drill.run_drill(target, count))
            except Exception:  # a drill must never take the agent down; it is recorded as not done
                log.exception("drill: %s failed unexpectedly", target.key)
                results.append(drill.DrillResult(target.key, target.label, drill.Outcome.NOT_DONE,
                                                 reason=T("the test stopped on an unexpected error")))
        self.submit(DrillFinished(tuple(results), manual))
