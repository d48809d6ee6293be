"""Idle guard: what the idle watch's findings mean for the user — a reminder, a lock, a tip.

Threading rules: handle() runs on the engine thread. It tells the other features what it learnt
through core events (UserIdle, UserActive, SessionUnlocked), never by calling them.
"""

from __future__ import annotations

import logging

from vigie.events import Event, SessionUnlocked, UserActive, UserIdle
from vigie.features.base import Services
from vigie.features.idle_lock.events import IdleEnded, IdleLockDue, IdleLockPostponed, IdleReminderDue, UserReturned
from vigie.features.idle_lock.feature import PRESENT, IdleLockFeature
from vigie.i18n import render
from vigie.model import Severity, T
from vigie.notify import Button, Notification

log = logging.getLogger(__name__)
IDLE_TAG = "idle"
PRESENT_ACTION = f"{IdleLockFeature.id}:{PRESENT}"  # « Je suis là », the reminder's button
NOTE_KEY = "idle"
IDLE_PAUSED = T("automatic lock paused: a camera or microphone is in use")
TIP_DAY_KEY = "idle_lock.tip_day"


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

    def reminder(self, seconds_left: int) -> Notification:
        tr = self.services.tr
        return Notification(
            title=render(T("Idle computer: locking in {seconds} s", seconds=seconds_left), tr),
            body=render(T("Move the mouse or click “I’m here” to stay signed in."), tr),
            buttons=(Button(render(T("I’m here"), tr), PRESENT_ACTION),),
            tag=IDLE_TAG,
        )

    def lock_tip(self) -> None:
        """After an automatic lock, when the user is back: a friendly tip, once a day at most."""
        services = self.services
        today = services.clock().date().isoformat()
        if services.journal.get_state(TIP_DAY_KEY) == today:
            return
        services.journal.set_state(TIP_DAY_KEY, today)
        services.notify(Notification(
            title=render(T("Vigie locked this computer while you were away"), services.tr),
            body=render(T("Next time, {keys} locks it in a second.", keys=services.platform.lock_shortcut),
                        services.tr),
            severity=Severity.INFO,
        ))
