"""Tips guard: one short tip every few days (a week by default), never at a bad moment.

Never during a consultation (a camera or microphone in use: the idle lock's own platform call), nor
within a minute of an unlock, nor on a locked screen. When the next tip is due and which tips were
shown live in the journal, so a restart neither repeats one nor skips the schedule. Runs on the
engine thread (handle / act).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from vigie.events import Event, SessionUnlocked
from vigie.features.base import Services
from vigie.features.tips.events import TipDue
from vigie.features.tips.tips import TIPS, Tip
from vigie.i18n import render
from vigie.model import Severity, T
from vigie.notify import Button, Notification

log = logging.getLogger(__name__)
TIP_TAG = "tip"
NEXT_KEY = "tips.next_at"  # journal state: when the next tip is due (ISO 8601)
SHOWN = "tip_shown"  # journal events
DISMISSED = "tip_dismissed"
DISMISS = "dismiss"  # the notification's « Compris » button: "tips:dismiss"
PLAN_KEY = "tips"
RECHECK_SECONDS = 3600.0  # a long wait is re-armed hourly: timers stand still while the computer sleeps
BUSY_RETRY_SECONDS = 300.0  # in a consultation, or locked: look again in 5 minutes
UNLOCK_QUIET_SECONDS = 60.0


class TipsGuard:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.unlocked_at: datetime | None = None
        self.seen_locked = False  # the screen was locked at the last look: its unlock counts as one

    def handle(self, event: Event) -> None:
        if isinstance(event, SessionUnlocked):
            self.unlocked_at = self.services.clock()
        elif isinstance(event, TipDue):
            self.consider()

    def consider(self) -> None:
        services = self.services
        if not services.config.tips.enabled:
            return
        now = services.clock()
        due = self.next_due(now)
        if now < due:
            self.plan((due - now).total_seconds())
            return
        wait = self.busy_for(now)
        if wait is not None:
            self.plan(wait)
            return
        self.show(self.next_tip(), now)
        due = now + timedelta(days=services.config.tips.every_days)
        services.journal.set_state(NEXT_KEY, due.isoformat())
        self.plan((due - now).total_seconds())

    def next_due(self, now: datetime) -> datetime:
        """The journal's date; the first time (or when unreadable), a full period from now."""
        stored = self.services.journal.get_state(NEXT_KEY)
        try:
            due = datetime.fromisoformat(stored) if stored else None
        except ValueError:
            log.warning("tips: unreadable next date %r, starting again", stored)
            due = None
        if due is None or due.tzinfo is None:
            due = now + timedelta(days=self.services.config.tips.every_days)
            self.services.journal.set_state(NEXT_KEY, due.isoformat())
        return due

    def busy_for(self, now: datetime) -> float | None:
        """Seconds to wait before a tip may show; None when now is a good moment."""
        if self.unlocked_at is not None:
            since = (now - self.unlocked_at).total_seconds()
            if 0 <= since < UNLOCK_QUIET_SECONDS:
                return UNLOCK_QUIET_SECONDS - since
        platform = self.services.platform
        try:
            in_use, locked = platform.media_in_use(), platform.screen_locked()
        except Exception as exc:  # each OS fails its own way; "unknown" never blocks a tip
            log.warning("tips: cannot tell whether the computer is in use: %s", exc)
            in_use = locked = None
        if in_use or locked:
            log.info("tips: postponed (camera or microphone in use=%s, locked=%s)", in_use, locked)
            self.seen_locked = self.seen_locked or bool(locked)
            return BUSY_RETRY_SECONDS
        if self.seen_locked:  # unlocked since the last look (the OS's own lock sends Vigie no event)
            self.seen_locked = False
            self.unlocked_at = now
            return UNLOCK_QUIET_SECONDS
        return None

    def next_tip(self) -> Tip:
        """The tip shown the fewest times, in the table's order: each once before any twice."""
        shown = Counter(data.get("tip") for _, _, data in self.services.journal.events(SHOWN))
        return min(TIPS, key=lambda tip: shown[tip.id])

    def show(self, tip: Tip, now: datetime) -> None:
        services = self.services
        services.notify(Notification(
            title=render(T("Vigie's tip of the week"), services.tr),
            body=render(tip.text, services.tr),
            severity=Severity.INFO,
            buttons=(Button(render(T("Got it"), services.tr), f"tips:{DISMISS}"),),
            tag=TIP_TAG,
        ))
        services.journal.record(SHOWN, now, tip=tip.id)
        log.info("tip shown: %s", tip.id)

    def dismiss(self) -> None:
        services = self.services
        services.withdraw(TIP_TAG)
        last = services.journal.events(SHOWN)
        services.journal.record(DISMISSED, services.clock(), tip=last[-1][2].get("tip") if last else None)

    def plan(self, seconds: float) -> None:
        self.services.plan(PLAN_KEY, min(max(seconds, 1.0), RECHECK_SECONDS), TipDue())
