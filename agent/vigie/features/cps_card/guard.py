"""CPS card guard: turns the card watch's events into a lock or a reminder, through the card policy.

Threading rules: every method runs on the engine thread: the card watch's events and the core
ones (session locked or unlocked, user idle or back) come through handle(). The policy's timers (a
delayed lock, the end-of-day reminder) come back as CardPolicyDue events through the engine queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from datetime import time as day_time

from vigie.config.schema import CpsCard
from vigie.events import Event, SessionLocked, SessionUnlocked, SettingsChanged, UserActive, UserIdle
from vigie.features.base import Services
from vigie.features.cps_card.events import CardInserted, CardPolicyDue, CardRemoved, CardWatchLost, CardWatchRestored
from vigie.features.cps_card.policy import CardDecision, CardDecisionKind, CardPolicy, CardPolicySettings
from vigie.i18n import render
from vigie.model import Severity, T, Text
from vigie.notify import Notification

log = logging.getLogger(__name__)
CARD_TAG = "cps-card"
TICK_KEY = "cps_card.policy"


def policy_settings(settings: CpsCard) -> CardPolicySettings:
    end = day_time.fromisoformat(settings.end_of_day) if settings.end_of_day else None
    return CardPolicySettings(lock_on_removal=settings.lock_on_removal,
                              lock_delay_seconds=float(settings.lock_delay_seconds),
                              remind_on_return=settings.remind_on_return, end_of_day=end)


class CpsGuard:
    def __init__(self, services: Services, wall_clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.services = services
        settings = services.config.cps_card
        self.policy = CardPolicy(policy_settings(settings), clock=clock, wall_clock=wall_clock)

    def handle(self, event: Event) -> None:
        if isinstance(event, CardInserted):
            self._act(self.policy.card_inserted(event.reader))
        elif isinstance(event, CardRemoved):
            log.info("cps: card removed")
            if event.session_active is False:
                # pcscd is one per machine: the card was pulled out at another user's session.
                log.info("cps: this session is not the one in use at the console: not locked")
                self._act(self.policy.card_removed(event.reader, may_lock=False))
                return
            if event.session_active is None:
                log.info("cps: the OS cannot tell which session is in use: locking this one, as always")
            if self.policy.locked and self.services.platform.screen_locked() is False:
                # Unlocked meanwhile without Vigie being told (Windows, macOS): never skip a lock for that.
                self._act(self.policy.session_unlocked())
            self._act(self.policy.card_removed(event.reader))
        elif isinstance(event, CardPolicyDue):
            self._act(self.policy.tick())
        elif isinstance(event, CardWatchLost):
            # In the user's language: IT providers read this log.
            log.warning("cps: %s", render(event.reason, self.services.tr))
        elif isinstance(event, CardWatchRestored):
            log.info("cps: card watch back")
        elif isinstance(event, SessionLocked):
            self._act(self.policy.session_locked())
        elif isinstance(event, SessionUnlocked):
            self._act(self.policy.session_unlocked())
        elif isinstance(event, UserIdle):
            self._act(self.policy.user_idle())
        elif isinstance(event, UserActive):
            self._act(self.policy.user_active())
        elif isinstance(event, SettingsChanged):  # the end-of-day hour, the lock on removal… from now on
            self.policy.settings = policy_settings(event.config.cps_card)
            self._plan_tick()

    # --- decisions ---------------------------------------------------------------------------------
    def _act(self, decisions: list[CardDecision]) -> None:
        for decision in decisions:
            log.info("cps: %s", decision.kind.value)
            if decision.kind == CardDecisionKind.LOCK_NOW:
                self.services.lock_now()
            elif decision.kind == CardDecisionKind.REMIND_CARD_LEFT:
                self._remind(T("Your CPS card stayed in the reader while you were away"),
                             T("Anyone could have used it. Take it with you when you leave the desk."))
            elif decision.kind == CardDecisionKind.REMIND_END_OF_DAY:
                self._remind(T("Your CPS card is still in the reader"),
                             T("Take it with you and keep it somewhere safe for the night."))
        self._plan_tick()

    def _remind(self, title: Text, body: Text) -> None:
        tr = self.services.tr
        self.services.notify(Notification(render(title, tr), render(body, tr), Severity.WARNING, tag=CARD_TAG))

    def _plan_tick(self) -> None:
        """One timer for the policy's next wake-up (a delayed lock, the end-of-day hour), or none."""
        self.services.plan(TICK_KEY, self.policy.next_wakeup(), CardPolicyDue())
