"""Idle guard: what the idle watch's findings mean for the user — a reminder, a lock, a tip.

Threading rules: handle() runs on the engine thread. It tells the other features what it learnt
through core events (UserIdle, UserActive, SessionUnlocked), never by calling them. It also keeps
the outcome of the last lock (any: idle, card, menu) in the journal, for the idle_lock check, and
says in the tooltip while the last one failed.
"""

from __future__ import annotations

import json
import logging

from vigie.events import Event, LockFailed, SessionLocked, SessionUnlocked, UserActive, UserIdle
from vigie.features.base import Services
from vigie.features.idle_lock.check import LAST_LOCK_KEY
from vigie.features.idle_lock.events import IdleEnded, IdleLockDue, IdleLockPostponed, IdleReminderDue, UserReturned
from vigie.features.idle_lock.feature import PRESENT, IdleLockFeature
from vigie.i18n import render
from vigie.model import Severity, T, Text
from vigie.notify import Button, Notification

log = logging.getLogger(__name__)
IDLE_TAG = "idle"
PRESENT_ACTION = f"{IdleLockFeature.id}:{PRESENT}"  # « Je suis là », the reminder's button
NOTE_KEY = "idle"
IDLE_PAUSED = T("automatic lock paused: a camera or microphone is in use")
TIP_DAY_KEY = "idle_lock.tip_day"
LOCK_NOTE_KEY = "lock"
LOCK_FAILED_NOTE = T("the screen could not be locked")


class IdleGuard:
    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, event: Event) -> None:
        services = self.services
        if isinstance(event, IdleReminderDue):
            services.notify(self.reminder(event.seconds_left))
            services.submit(UserIdle())
        elif isinstance(event, IdleEnded):
            services.withdraw(IDLE_TAG)
            services.set_note(NOTE_KEY, None)
            services.submit(UserActive())
        elif isinstance(event, IdleLockDue):
            services.withdraw(IDLE_TAG)
            services.lock_now()
        elif isinstance(event, IdleLockPostponed):
            services.set_note(NOTE_KEY, IDLE_PAUSED)
        elif isinstance(event, UserReturned):
            self.lock_tip()
            services.submit(SessionUnlocked())
        elif isinstance(event, SessionLocked):
            self.remember_lock(None)
            services.set_note(LOCK_NOTE_KEY, None)
        elif isinstance(event, LockFailed):
            self.remember_lock(event.reason)
            services.set_note(LOCK_NOTE_KEY, LOCK_FAILED_NOTE)

    def remember_lock(self, failure: Text | None) -> None:
        """The last lock's outcome, with the locker configured then (a later change makes it stale)."""
        services = self.services
        record = {"ok": failure is None, "at": services.clock().isoformat(timespec="seconds"),
                  "locker_command": services.config.lock.locker_command}
        if failure is not None:
            record["reason"] = {"msgid": failure.msgid, "params": dict(failure.params)}
        services.journal.set_state(LAST_LOCK_KEY, json.dumps(record, ensure_ascii=False, default=str))

    def reminder(self, seconds_left: int) -> Notification:
        tr = self.services.tr
        return Notification(
            title=render(T("Idle computer: locking in {seconds} s", seconds=seconds_left), tr),
            body=render(T("Move the mouse or click “I’m here” to keep the computer unlocked."), tr),
            buttons=(Button(render(T("I’m here"), tr), PRESENT_ACTION),),
            tag=IDLE_TAG,
        )

    def lock_tip(self) -> None:
        """After an automatic lock, when the user is back: a friendly tip, once a day at most. Locked
        again by the time this runs (the menu, a card pulled out): nobody is there to read it, and a
        notification must not show over the lock; the next return gives it."""
        services = self.services
        today = services.clock().date().isoformat()
        if services.journal.get_state(TIP_DAY_KEY) == today:
            return
        if services.platform.screen_locked():
            log.info("lock tip kept for the next return: the screen is locked again")
            return
        services.journal.set_state(TIP_DAY_KEY, today)
        services.notify(Notification(
            title=render(T("Vigie locked this computer while you were away"), services.tr),
            body=render(T("Next time, {keys} locks it in a second.", keys=services.platform.lock_shortcut),
                        services.tr),
            severity=Severity.INFO,
        ))
