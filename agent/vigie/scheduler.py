"""The scheduler thread: `schedule` jobs that only enqueue Tick events. No polling: it sleeps
until the next job is due (or until stopped)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

import schedule

from vigie.events import Event, Tick

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, submit: Callable[[Event], None], intervals_minutes: Mapping[str, int]) -> None:
        self._scheduler = schedule.Scheduler()
        self._stop = threading.Event()
        for check_id, minutes in intervals_minutes.items():
            self._scheduler.every(minutes).minutes.do(submit, Tick(check_id))
        self._thread = threading.Thread(target=self._run, name="vigie-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._sleep_seconds()):
            try:
                self._scheduler.run_pending()
            except Exception:  # a job only enqueues; still, the thread must survive
                log.exception("scheduler job failed")

    def _sleep_seconds(self) -> float:
        idle = self._scheduler.idle_seconds
        return 3600.0 if idle is None else max(0.0, idle)
