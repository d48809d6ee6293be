"""The idle_lock feature: remind, then lock the unattended computer; check that it can, and the OS's own lock."""

from __future__ import annotations

import logging
import threading
from typing import ClassVar

from vigie.check import Check
from vigie.config.schema import IdleLock
from vigie.events import Event, LockFailed, SessionLocked, SessionUnlocked, SettingsChanged
from vigie.features.base import Feature, Services
from vigie.features.idle_lock.check import IdleLockCheck
from vigie.features.idle_lock.events import IdleEnded, IdleLockDue, IdleLockPostponed, IdleReminderDue, UserReturned
from vigie.features.idle_lock.lock_policy import LockPolicyCheck

log = logging.getLogger(__name__)
PRESENT = "present"  # « Je suis là », the idle reminder's button


class IdleLockFeature(Feature):
    id: ClassVar[str] = "idle_lock"
    checks: ClassVar[tuple[Check, ...]] = (IdleLockCheck(), LockPolicyCheck())
    handles: ClassVar[tuple[type[Event], ...]] = (IdleReminderDue, IdleEnded, IdleLockDue, IdleLockPostponed,
                                                   UserReturned, SessionUnlocked, SessionLocked, LockFailed,
                                                   SettingsChanged)

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        from vigie.features.idle_lock.guard import IdleGuard  # the agent's part: not for `vigie check`
        from vigie.features.idle_lock.watch import IdleWatcher

        self.guard = IdleGuard(services)
        self.watcher = IdleWatcher(services.platform, services.config.idle_lock, services.submit)

    def start(self) -> None:
        if self.services.config.idle_lock.enabled:
            self._start_watch()

    def _start_watch(self) -> None:
        threading.Thread(target=self.watcher.run, name="vigie-idle", daemon=True).start()

    def handle(self, event: Event) -> None:
        if isinstance(event, SettingsChanged):
            self.follow(event.config.idle_lock)
            return
        if isinstance(event, SessionUnlocked):
            self.watcher.wake()  # the screen was just unlocked: look now, not in a minute
            return
        if isinstance(event, LockFailed):
            self.watcher.lock_failed()  # the session is not locked: the watch must not wait for a return
        elif isinstance(event, SessionLocked):
            self.watcher.lock_seen()  # any lock: its end is the user's return, whatever the mouse does
        self.guard.handle(event)

    def follow(self, settings: IdleLock) -> None:
        """New delays while running: the watch looks again at once with them (a longer delay withdraws a
        reminder already shown); turned off, it stops; turned on again, a new watch starts."""
        before = self.watcher.settings
        if settings == before:
            return
        log.info("idle watch: settings now enabled=%s remind=%ds lock=%ds", settings.enabled,
                 settings.remind_after_seconds, settings.lock_after_seconds)
        if not settings.enabled:
            self.watcher.stop()
            self.watcher.settings = settings
            if self.watcher.phase.value in ("reminded", "postponed"):
                self.services.submit(IdleEnded())  # the reminder shown (or the paused note) goes with the watch
        elif not before.enabled:
            from vigie.features.idle_lock.watch import IdleWatcher

            self.watcher = IdleWatcher(self.services.platform, settings, self.services.submit)
            self._start_watch()
        else:
            self.watcher.settings = settings
            self.watcher.wake()

    def act(self, action: str) -> None:
        if action == PRESENT:
            self.watcher.present()

    def stop(self) -> None:
        self.watcher.stop()
