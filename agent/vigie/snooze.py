"""« Plus tard » on a warning's notification: its reminder is put off, a bounded number of times per
problem, then the reminder insists (no « Plus tard » any more, and it stays on screen) — the
escalation ladder of Kolide and Nudge. Never for an urgent problem. Kept in the journal (SQLite,
0600), so a restart of the agent neither forgets the count nor the time put off.

Engine thread only (no lock). The clock is injected."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from vigie.journal import Journal

log = logging.getLogger(__name__)

MAX_SNOOZES = 3  # per problem; the fourth reminder insists
SNOOZE_ACTION = "snooze:"  # a notification button's action: "snooze:<check_id>"
STATE_KEY = "snoozes"  # the journal's state row: {check_id: {"count": n, "until": iso}}


class Snoozes:
    def __init__(self, journal: Journal, clock: Callable[[], datetime], put_off: timedelta) -> None:
        self.journal, self.clock, self.put_off = journal, clock, put_off
        self._state = self._load()

    def _load(self) -> dict[str, dict]:
        try:
            state = json.loads(self.journal.get_state(STATE_KEY) or "{}")
        except (ValueError, TypeError) as exc:  # a damaged row: start again, say so in the log
            log.warning("snoozes unreadable, starting again: %s", exc)
            return {}
        return state if isinstance(state, dict) else {}

    def _save(self) -> None:
        self.journal.set_state(STATE_KEY, json.dumps(self._state, sort_keys=True))

    def count(self, check_id: str) -> int:
        entry = self._state.get(check_id)
        return int(entry.get("count", 0)) if isinstance(entry, dict) else 0

    def left(self, check_id: str) -> int:
        return max(0, MAX_SNOOZES - self.count(check_id))

    def snooze(self, check_id: str) -> bool:
        """« Plus tard » pressed: False when none is left (an old notification's button)."""
        count = self.count(check_id)
        if count >= MAX_SNOOZES:
            return False
        until = self.clock() + self.put_off
        self._state[check_id] = {"count": count + 1, "until": until.isoformat(timespec="seconds")}
        self._save()
        self.journal.record("snooze", self.clock(), check=check_id, count=count + 1)
        log.info("check=%s reminder put off (%d of %d)", check_id, count + 1, MAX_SNOOZES)
        return True

    def quiet(self, check_id: str) -> bool:
        """Whether the reminder of this problem is put off now."""
        entry = self._state.get(check_id)
        if not isinstance(entry, dict) or not entry.get("until"):
            return False
        try:
            return self.clock() < datetime.fromisoformat(entry["until"])
        except (TypeError, ValueError):
            return False

    def forget(self, check_id: str) -> None:
        """The problem is solved: a new one starts with every « Plus tard » again."""
        if self._state.pop(check_id, None) is not None:
            self._save()
