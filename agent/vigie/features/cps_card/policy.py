"""What the CPS card's comings and goings mean: lock, or remind. Pure logic with injected clocks.

The engine feeds it what happened (card in or out, session locked or unlocked, user idle or back)
and calls tick() when next_wakeup() says so; every call returns decisions, never acts itself.
- the card is pulled out while the session is unlocked: lock, after an optional delay of 0–10 s
  (cancelled if the card comes back within it); never when it was pulled out while another user's
  session was the one in use (`may_lock=False`);
- the card stayed in the reader while the computer was locked or idle: remind on the user's return;
- the card is still in the reader at the end-of-day hour: remind, once a day.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time
from enum import Enum

MAX_LOCK_DELAY = 10.0


@dataclass(frozen=True)
class CardPolicySettings:
    lock_on_removal: bool = True
    lock_delay_seconds: float = 0.0  # 0–10
    remind_on_return: bool = True
    min_away_seconds: float = 60.0  # a shorter absence (a quick Win+L and back) is not worth a reminder
    end_of_day: day_time | None = day_time(19, 0)  # None: no end-of-day reminder


class CardDecisionKind(Enum):
    LOCK_NOW = "lock_now"
    LOCK_PENDING = "lock_pending"  # a delayed lock starts: `seconds` until it happens
    LOCK_CANCELLED = "lock_cancelled"  # the card came back (or the session got locked) within the delay
    REMIND_CARD_LEFT = "remind_card_left"  # on return: the card stayed in the reader meanwhile
    REMIND_END_OF_DAY = "remind_end_of_day"  # the card is still in the reader at the end of the day


@dataclass(frozen=True)
class CardDecision:
    kind: CardDecisionKind
    reader: str = ""
    seconds: float = 0.0


class CardPolicy:
    def __init__(self, settings: CardPolicySettings, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], datetime] = datetime.now) -> None:
        self.settings = settings
        self.clock = clock  # for delays (immune to wall-clock changes)
        self.wall_clock = wall_clock  # local time, for the end-of-day hour
        self.delay = min(max(settings.lock_delay_seconds, 0.0), MAX_LOCK_DELAY)
        self._cards: dict[str, datetime] = {}  # reader -> when the card went in (local time)
        self._locked = False
        self._idle = False
        self._away_since: float | None = None  # monotonic start of the current locked/idle stretch
        self._left_while_away = False  # a card was in a reader at some point of that stretch
        self._lock_at: float | None = None
        self._lock_reader = ""
        self._reminded_on: date | None = None

    @property
    def locked(self) -> bool:
        """What the policy believes of the session (told by session_locked / session_unlocked)."""
        return self._locked

    @property
    def card_present(self) -> bool:
        return bool(self._cards)

    # --- what happened ---------------------------------------------------------------------------

    def card_inserted(self, reader: str) -> list[CardDecision]:
        self._cards.setdefault(reader, self.wall_clock())
        if self._away_since is not None:
            self._left_while_away = True
        if self._lock_at is not None:
            self._lock_at = None
            return [CardDecision(CardDecisionKind.LOCK_CANCELLED, reader)]
        return []

    def card_removed(self, reader: str, may_lock: bool = True) -> list[CardDecision]:
        self._cards.pop(reader, None)
        if not may_lock or self._locked or not self.settings.lock_on_removal or self._lock_at is not None:
            return []
        if self.delay <= 0:
            return [CardDecision(CardDecisionKind.LOCK_NOW, reader)]
        self._lock_at, self._lock_reader = self.clock() + self.delay, reader
        return [CardDecision(CardDecisionKind.LOCK_PENDING, reader, self.delay)]

    def session_locked(self) -> list[CardDecision]:
        self._locked = True
        self._begin_away()
        if self._lock_at is not None:  # locked by other means within the delay: nothing left to do
            self._lock_at = None
            return [CardDecision(CardDecisionKind.LOCK_CANCELLED, self._lock_reader)]
        return []

    def session_unlocked(self) -> list[CardDecision]:
        self._locked = self._idle = False  # typing the password is activity too
        return self._end_away()

    def user_idle(self) -> list[CardDecision]:
        self._idle = True
        self._begin_away()
        return []

    def user_active(self) -> list[CardDecision]:
        self._idle = False
        return [] if self._locked else self._end_away()

    def tick(self) -> list[CardDecision]:
        """Time passed: a delayed lock or the end-of-day reminder may be due."""
        decisions = []
        if self._lock_at is not None and self.clock() >= self._lock_at:
            self._lock_at = None
            if not self._locked:
                decisions.append(CardDecision(CardDecisionKind.LOCK_NOW, self._lock_reader))
        reader = self._end_of_day_due()
        if reader is not None:
            self._reminded_on = self.wall_clock().date()
            decisions.append(CardDecision(CardDecisionKind.REMIND_END_OF_DAY, reader))
        return decisions

    def next_wakeup(self) -> float | None:
        """Seconds until tick() has something to do; None: nothing is scheduled."""
        waits = []
        if self._lock_at is not None:
            waits.append(max(0.0, self._lock_at - self.clock()))
        if self._cards and self.settings.end_of_day is not None:
            now = self.wall_clock()
            due = datetime.combine(now.date(), self.settings.end_of_day, tzinfo=now.tzinfo)
            if now >= due and self._end_of_day_due() is None:
                due += timedelta(days=1)  # done for today (or the card came in after the hour)
            waits.append(max(0.0, (due - now).total_seconds()))
        return min(waits) if waits else None

    # --- inside ----------------------------------------------------------------------------------

    def _begin_away(self) -> None:
        if self._away_since is None:
            self._away_since = self.clock()
            self._left_while_away = self.card_present

    def _end_away(self) -> list[CardDecision]:
        if self._away_since is None:
            return []
        away = self.clock() - self._away_since
        left = self._left_while_away and self.card_present
        self._away_since, self._left_while_away = None, False
        if left and self.settings.remind_on_return and away >= self.settings.min_away_seconds:
            return [CardDecision(CardDecisionKind.REMIND_CARD_LEFT, next(iter(self._cards)), away)]
        return []

    def _end_of_day_due(self) -> str | None:
        """The reader of a card that was already in before today's end-of-day hour, if not yet reminded."""
        if self.settings.end_of_day is None:
            return None
        now = self.wall_clock()
        due = datetime.combine(now.date(), self.settings.end_of_day, tzinfo=now.tzinfo)
        if now < due or self._reminded_on == now.date():
            return None
        # A card inserted after the hour is evening work, not a card forgotten at the end of the day.
        return next((reader for reader, since in self._cards.items() if since < due), None)
