"""Idle watch: remind, then lock the unattended computer; never during a teleconsultation.

Threading rules: run() is the watcher thread's body; present(), lock_seen(), lock_failed(), wake() and
stop() may be called from any thread. The watcher only reads the platform and submits events; the
engine does the rest. A lock it asked for counts only once the engine saw it: when it was not seen
(lock_failed), the watch does not wait for a "return" that means nothing; it tries again at the next
idle stretch.

Locked, it waits for the lock to END, not for input: a mouse moved on the lock screen is no return.
The lock ended when the desktop says so (screen_locked() False: its screen saver, Vigie's own
locker), or, where nothing can say, when someone used the computer since the lock. Then a new
absence starts at once: unlocked, one move of the mouse and gone again is reminded and locked again.
The platform's unlock signal (on_unlock → SessionUnlocked → wake()) makes this look happen at once.

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
# "Already locked by another program?" from the keyboard grab alone (no screen saver to ask): held on
# two looks this far apart. A menu, the GNOME overview or a notification holds it for an instant.
GRAB_LASTS = 0.5
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
        self._locked_at = -1e18  # when the lock (Vigie's, or found) was seen
        self._lock_pending = False  # a lock was asked for: wait for the engine's word, seen or not
        self._failed_at: float | None = None  # when the lock asked for was reported not seen
        self._lock_failed = threading.Event()
        self._lock_seen = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.grab_lasts = GRAB_LASTS

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

    def lock_seen(self) -> None:
        """The engine saw the session locked (this watch's lock, the menu's, the card's)."""
        self._lock_seen.set()
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
        self._take_lock_outcome()
        idle = min(state.seconds, self.clock() - self._present_at)
        remind, lock = self.settings.remind_after_seconds, self.settings.lock_after_seconds
        if self.phase == Phase.LOCKED:
            if self._lock_pending or not self._lock_ended(state.screensaver_active, idle):
                return self._locked_poll()
            self._returned()
        if idle < min(remind, lock):
            return self._active(min(remind, lock) - idle)
        locked = True if state.screensaver_active else self.platform.screen_locked()
        if locked:
            return self._found_locked()
        if idle < lock:
            return self._remind(lock - idle)
        if self.phase == Phase.FAILED and self._failed_during(idle):
            # The same absence as the failed lock: wait for the next one, looking often enough to
            # catch its start in time for its own reminder and lock.
            return min(AWAY_POLL, float(self.settings.lock_after_seconds))
        if locked is None and self._grab_lasts():
            log.info("idle watch: the screen is already locked by another program (keyboard held)")
            return self._found_locked()
        return self._lock()

    def _lock_ended(self, saver_on: bool, idle: float) -> bool:
        if saver_on:
            return False
        locked = self.platform.screen_locked()
        if locked is not None:
            return not locked
        return self.clock() - idle > self._locked_at  # nothing can say: someone used it since the lock

    def _locked_poll(self) -> float:
        """Locked: the unlock signal wakes the watch; this bounds the wait where there is none."""
        return min(AWAY_POLL, float(min(self.settings.remind_after_seconds, self.settings.lock_after_seconds)))

    def _grab_lasts(self) -> bool:
        """Another client holds the keyboard, and still does GRAB_LASTS s later: a locker's grab.
        Asked only where no screen saver can say (plain X11), and only at the lock threshold."""
        if not self.platform.input_grabbed():
            return False
        self._stop.wait(self.grab_lasts)
        return bool(self.platform.input_grabbed())

    def _returned(self) -> None:
        log.info("idle watch: the lock ended")
        if self._locked_by_vigie:
            self.submit(UserReturned())
        self._locked_by_vigie = False
        self._enter(Phase.ACTIVE)

    def _take_lock_outcome(self) -> None:
        if self._lock_seen.is_set():
            self._lock_seen.clear()
            self._lock_pending = False
            self._locked_at = self.clock()
            if self.phase in (Phase.REMINDED, Phase.POSTPONED):
                self.submit(IdleEnded())
            self._enter(Phase.LOCKED)  # the menu's or the card's lock too: its end is a return
        if not self._lock_failed.is_set():
            return
        self._lock_failed.clear()
        self._lock_pending = False
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
        self._locked_at = self.clock()
        self._enter(Phase.LOCKED)
        return self._locked_poll()

    def _active(self, until_threshold: float) -> float:
        if self.phase in (Phase.REMINDED, Phase.POSTPONED):
            self.submit(IdleEnded())
        self._enter(Phase.ACTIVE)
        return until_threshold

    def _remind(self, until_lock: float) -> float:
        if self.phase in (Phase.ACTIVE, Phase.FAILED):  # FAILED: someone came back since, a new absence
            self.submit(IdleReminderDue(seconds_left=round(until_lock)))
            self._enter(Phase.REMINDED)
        return min(REMINDER_POLL, until_lock)

    def _lock(self) -> float:
        if self.platform.media_in_use():
            if self.phase != Phase.POSTPONED:
                self.submit(IdleLockPostponed())
            self._enter(Phase.POSTPONED)
            return POSTPONED_POLL
        self.submit(IdleLockDue())
        self._locked_by_vigie = True
        self._lock_pending = True  # until the engine says seen (lock_seen) or not (lock_failed)
        self._locked_at = self.clock()
        self._enter(Phase.LOCKED)
        return self._locked_poll()

    def _enter(self, phase: Phase) -> None:
        if phase != self.phase:
            log.info("idle watch: %s -> %s", self.phase.value, phase.value)
            self.phase = phase
