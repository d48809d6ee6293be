"""When to notify: on a problem that appears or worsens, again while it stays, never too often,
and never over the lock screen (kept for the user's return). Pure logic with an injected clock."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from vigie.config.schema import Notifications
from vigie.model import Finding, Severity
from vigie.snooze import Snoozes

log = logging.getLogger(__name__)

# How loud a severity is: OK/INFO are quiet, and "could not check" (UNKNOWN) is not an alarm.
LOUDNESS = {Severity.OK: 0, Severity.INFO: 0, Severity.UNKNOWN: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class AlertPolicy:
    def __init__(self, settings: Notifications, clock: Callable[[], datetime], snoozes: Snoozes | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.snoozes = snoozes  # « Plus tard » on warnings; None: no such button
        self._last_sent: dict[str, datetime] = {}
        self._sent_times: deque[datetime] = deque()
        self._held: dict[str, Finding] = {}  # kept while the screen is locked, latest per check

    def consider(self, finding: Finding, previous: Finding | None, screen_locked: bool) -> list[Finding]:
        """Return what to show now for this finding (possibly with held ones released)."""
        if LOUDNESS[finding.severity] == 0 and self.snoozes is not None:
            self.snoozes.forget(finding.check_id)  # solved: the next problem gets its « Plus tard » again
        if not self.settings.enabled or not self._wanted(finding, previous):
            if LOUDNESS[finding.severity] == 0:
                self._held.pop(finding.check_id, None)  # solved while away: nothing to say
            return [] if screen_locked else self.release()
        if screen_locked:
            self._held[finding.check_id] = finding
            log.info("check=%s notification held until the screen is unlocked", finding.check_id)
            return []
        return [f for f in [*self._take_held(), finding] if self._allow(f)]

    def release(self) -> list[Finding]:
        """The screen is unlocked again: what was held, within the hourly limit."""
        return [f for f in self._take_held() if self._allow(f)]

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def _wanted(self, finding: Finding, previous: Finding | None) -> bool:
        loudness = LOUDNESS[finding.severity]
        if loudness == 0:
            return False
        if finding.severity == Severity.WARNING and self.snoozes is not None and self.snoozes.quiet(finding.check_id):
            return False  # put off with « Plus tard » (also across a restart); urgent is never put off
        if previous is None or loudness > LOUDNESS[previous.severity]:
            return True
        last = self._last_sent.get(finding.check_id)
        return last is None or self.clock() - last >= timedelta(minutes=self.settings.repeat_minutes)

    def _take_held(self) -> list[Finding]:
        held = list(self._held.values())
        self._held.clear()
        if held:
            log.info("screen unlocked: %d held notification(s) released", len(held))
        return held

    def _allow(self, finding: Finding) -> bool:
        now = self.clock()
        while self._sent_times and now - self._sent_times[0] >= timedelta(hours=1):
            self._sent_times.popleft()
        if len(self._sent_times) >= self.settings.max_per_hour:
            log.info("check=%s notification withheld: %d per hour reached", finding.check_id,
                     self.settings.max_per_hour)
            return False
        self._sent_times.append(now)
        self._last_sent[finding.check_id] = now
        return True
