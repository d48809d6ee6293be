"""Idle watch: remind, then lock the unattended computer; never during a teleconsultation.

Threading rules: run() is the watcher thread's body; present(), lock_failed(), wake() and stop() may
be called from any thread. The watcher only reads the platform and submits events; the engine does
the rest. A lock it asked for counts only once the engine saw it: when it was not seen (lock_failed),
the watch does not wait for a "return" that means nothing; it tries again at the next idle stretch.

Cheap by construction: the lock threshold cannot be reached earlier than `threshold - idle`, so
the thread sleeps exactly that long. It polls (every REMINDER_POLL s) only during the reminder,
to withdraw it as soon as someone is back, and slowly (AWAY_POLL s) while the screen is locked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import Enum

from vigie.config.schema import IdleLock
from vigie.events import Event
from vigie.features.idle_lock.events import IdleEnded, IdleLockDue, IdleLockPostponed, IdleReminderDue, UserReturned
from vigie.platform.base import Platform, PlatformError

log = logging.getLogger(__name__)
REMINDER_POLL = 2.0
AWAY_POLL = 60.0
POSTPONED_POLL = 30.0
UNAVAILABLE_RETRY = 600.0


class Phase(Enum):
    ACTIVE = "active"
    REMINDED = "reminded"
    POSTPONED = "postponed"  # threshold passed, camera or microphone in use
    LOCKED = "locked"  # locked by Vigie, or found locked: wait for the user's return
    FAILED = "failed"  # the lock asked for was not seen: no new try until the next idle stretch


class IdleWatcher:
    def __init__(self, platform: Platform, settings: IdleLock, submit: Callable[[Event], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.platform = platform
        self.settings = settings
        self.submit = submit
        self.clock = clock
        self.phase = Phase.ACTIVE
        self._present_at = -1e18
        self._locked_by_vigie = False
        self._failed_at: float | None = None  # when the lock asked for was reported not seen
        self._lock_failed = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            delay = self.step()
            self._wake.wait(delay)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Look now (e.g. the screen was just unlocked)."""
        self._wake.set()

    def lock_failed(self) -> None:
        """The engine did not see the session locked: it is not (see the module's docstring)."""
        self._lock_failed.set()
        self._wake.set()

    def present(self) -> None:
        """« Je suis là »: counts as input, wherever the click came from."""
        self._present_at = self.clock()
        self._wake.set()

    def step(self) -> float:
        """Look once; return how long to sleep."""
        try:
            state = self.platform.idle_state()
        except PlatformError as exc:
            log.warning("idle time unavailable: %s", exc)
            return UNAVAILABLE_RETRY
        self._take_lock_failure()
        idle = min(state.seconds, self.clock() - self._present_at)
        remind, lock = self.settings.remind_after_seconds, self.settings.lock_after_seconds
        if idle < min(remind, lock):
            return self._active(min(remind, lock) - idle)
        if state.screensaver_active or self.platform.screen_locked():
            return self._found_locked()
        if idle < lock:
            return self._remind(lock - idle)
        if self.phase == Phase.FAILED and self._failed_during(idle):
            # The same absence as the failed lock: wait for the next one, looking often enough to
            # catch its start in time for its own reminder and lock.
            return min(AWAY_POLL, float(self.settings.lock_after_seconds))
        if self.phase != Phase.LOCKED and self.platform.input_grabbed():
            log.info("idle watch: the screen is already locked by another program")
            return self._found_locked()
        return self._lock()

    def _take_lock_failure(self) -> None:
        if not self._lock_failed.is_set():
            return
        self._lock_failed.clear()
        if self.phase == Phase.LOCKED and self._locked_by_vigie:  # else: another lock's failure (card, menu)
            self._locked_by_vigie = False
            self._failed_at = self.clock()
            self._enter(Phase.FAILED)

    def _failed_during(self, idle: float) -> bool:
        """This idle stretch began before the failed lock (nobody came back since)."""
        return self._failed_at is not None and self.clock() - idle <= self._failed_at

    def _found_locked(self) -> float:
        if self.phase in (Phase.REMINDED, Phase.POSTPONED):
            self.submit(IdleEnded())  # locked meanwhile: nothing left to say
        self._enter(Phase.LOCKED)
        return AWAY_POLL

    def _active(self, until_threshold: float) -> float:
        if self.phase in (Phase.REMINDED, Phase.POSTPONED):
            self.submit(IdleEnded())
        elif self.phase == Phase.LOCKED and self._locked_by_vigie:
            self.submit(UserReturned())
        self._locked_by_vigie = False
        self._enter(Phase.ACTIVE)
        return until_threshold

    def _remind(self, until_lock: float) -> float:
        if self.phase in (Phase.ACTIVE, Phase.FAILED):  # FAILED: someone came back since, a new absence
            self.submit(IdleReminderDue(seconds_left=round(until_lock)))
            self._enter(Phase.REMINDED)
        return min(REMINDER_POLL, until_lock)

    def _lock(self) -> float:
        if self.phase == Phase.LOCKED:
            return AWAY_POLL  # locked once already: wait for the return, never lock twice
        if self.platform.media_in_use():
            if self.phase != Phase.POSTPONED:
                self.submit(IdleLockPostponed())
            self._enter(Phase.POSTPONED)
            return POSTPONED_POLL
        self.submit(IdleLockDue())
        self._locked_by_vigie = True
        self._enter(Phase.LOCKED)
        return AWAY_POLL

    def _enter(self, phase: Phase) -> None:
        if phase != self.phase:
            log.info("idle watch: %s -> %s", self.phase.value, phase.value)
            self.phase = phase
