"""CPS card guard: turns the card watch's events into a lock or a reminder, through the card policy.

Threading rules: every method runs on the engine thread (the engine dispatches Card* events here
and tells it when the session is locked, unlocked, idle or used again). The policy's timers (a
delayed lock, the end-of-day reminder) come back as CardPolicyDue events through the engine queue.
"""

from __future__ import annotations

import gettext
import logging
import threading
from collections.abc import Callable
from datetime import datetime, time

from vigie.config.schema import CpsCard
from vigie.events import CardInserted, CardPolicyDue, CardRemoved, CardWatchLost, CardWatchRestored, Event
from vigie.features.cps_card.policy import CardDecision, CardDecisionKind, CardPolicy, CardPolicySettings
from vigie.i18n import render
from vigie.model import Severity, T
from vigie.notify import Notification

log = logging.getLogger(__name__)
CARD_TAG = "cps-card"


def policy_settings(settings: CpsCard) -> CardPolicySettings:
    end = time.fromisoformat(settings.end_of_day) if settings.end_of_day else None
    return CardPolicySettings(lock_on_removal=settings.lock_on_removal,
                              lock_delay_seconds=float(settings.lock_delay_seconds),
                              remind_on_return=settings.remind_on_return, end_of_day=end)


class CpsGuard:
    def __init__(self, settings: CpsCard, lock_now: Callable[[], None], notify: Callable[[Notification], None],
                 submit: Callable[[Event], None], tr: gettext.NullTranslations,
                 screen_locked: Callable[[], bool | None] = lambda: None) -> None:
        self.policy = CardPolicy(policy_settings(settings), wall_clock=lambda: datetime.now().astimezone())
        self.lock_now = lock_now
        self.notify = notify
        self.submit = submit
        self.tr = tr
        self.screen_locked = screen_locked
        self._timer: threading.Timer | None = None

    # --- events from the card watch --------------------------------------------------------------
    def handle(self, event: Event) -> None:
        if isinstance(event, CardInserted):
            self._act(self.policy.card_inserted(event.reader))
        elif isinstance(event, CardRemoved):
            log.info("cps: card removed")
            if self.policy.locked and self.screen_locked() is False:
                # Unlocked meanwhile without Vigie being told (Windows, macOS): never skip a lock for that.
                self._act(self.policy.session_unlocked())
            self._act(self.policy.card_removed(event.reader))
        elif isinstance(event, CardPolicyDue):
            self._act(self.policy.tick())
        elif isinstance(event, CardWatchLost):
            log.warning("cps: %s", render(event.reason, self.tr))  # in the user's language: IT providers read it
        elif isinstance(event, CardWatchRestored):
            log.info("cps: card watch back")

    # --- what the engine knows of the session -------------------------------------------------------
    def session_locked(self) -> None:
        self._act(self.policy.session_locked())

    def session_unlocked(self) -> None:
        self._act(self.policy.session_unlocked())

    def user_idle(self) -> None:
        self._act(self.policy.user_idle())

    def user_active(self) -> None:
        self._act(self.policy.user_active())

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    # --- decisions ---------------------------------------------------------------------------------
    def _act(self, decisions: list[CardDecision]) -> None:
        for decision in decisions:
            log.info("cps: %s", decision.kind.value)
            if decision.kind == CardDecisionKind.LOCK_NOW:
                self.lock_now()
            elif decision.kind == CardDecisionKind.REMIND_CARD_LEFT:
                self._remind(T("Your CPS card stayed in the reader while you were away"),
                             T("Anyone could have used it. Take it with you when you leave the desk."))
            elif decision.kind == CardDecisionKind.REMIND_END_OF_DAY:
                self._remind(T("Your CPS card is still in the reader"),
                             T("Take it with you and keep it somewhere safe for the night."))
        self._plan_tick()

    def _remind(self, title, body) -> None:
        self.notify(Notification(render(title, self.tr), render(body, self.tr), Severity.WARNING, tag=CARD_TAG))

    def _plan_tick(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        wait = self.policy.next_wakeup()
        if wait is not None:
            self._timer = threading.Timer(wait, self.submit, args=(CardPolicyDue(),))
            self._timer.daemon = True
            self._timer.start()
