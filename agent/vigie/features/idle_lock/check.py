"""idle_lock: can Vigie lock this computer when it is left unattended?

OK only when Vigie can prove its locks: every lock it makes must be seen (the desktop's screen saver
says it is active, logind's LockedHint, the keyboard grab of a known X locker, Windows' or macOS's
own lock state), or was seen the last time with this same locker. A locker that Vigie cannot see
lock in advance (any other program, or the generic `loginctl lock-session`) is UNKNOWN, never OK:
each of its locks is still checked when it happens. The last lock that was not seen (whatever asked
for it: idle, card, menu) makes a WARNING until a lock is seen again or the locker is changed.
Nothing here locks or grabs anything: `vigie check` only asks which way Vigie would lock.
"""

from __future__ import annotations

import json
import shlex
from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.model import TN, Finding, Severity, T, Text
from vigie.platform.base import LockRoute, PlatformError

LAST_LOCK_KEY = "idle_lock.last_lock"  # written by the idle guard after every lock (guard.py)


class IdleLockCheck:
    id: ClassVar[str] = "idle_lock"
    label: ClassVar[Text] = T("Lock when away")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        settings = ctx.config.idle_lock
        minutes = max(1, round(settings.lock_after_seconds / 60))
        facts: dict[str, object] = {"enabled": settings.enabled, "lock_after_seconds": settings.lock_after_seconds}
        if not settings.enabled:
            return Finding(self.id, Severity.INFO, T("Vigie does not lock this computer when it is left alone."),
                           fix=T("Turn it back on: vigie config set idle_lock.enabled oui"), facts=facts)
        locker = ctx.config.lock.locker_command
        last = last_lock(ctx, locker)
        if last is not None:
            facts.update(last_lock_ok=last["ok"], last_lock_at=last["at"])
            if not last["ok"]:
                return Finding(self.id, Severity.WARNING, T("The last time Vigie tried to lock this computer, "
                                                            "the screen did not lock."),
                               detail=failure_reason(last), fix=how_to_fix(ctx), facts=facts)
        try:
            source = ctx.platform.idle_state().source
        except PlatformError as exc:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie cannot lock this computer when it is left alone."),
                           detail=exc.reason, fix=T("Lock it yourself each time you leave it."), facts=facts)
        facts["source"] = source
        try:
            route = ctx.platform.lock_route(shlex.split(locker))
        except (PlatformError, ValueError) as exc:  # ValueError: a locker setting with unbalanced quotes
            reason = exc.reason if isinstance(exc, PlatformError) else T("The screen locker setting is not valid.")
            return Finding(self.id, Severity.WARNING, T("Vigie cannot lock this computer when it is left alone."),
                           detail=reason, fix=how_to_fix(ctx), facts=facts)
        facts.update(lock_via=route.how, proof=route.proof)
        if route.proof is None and not (last is not None and last["ok"]):
            return unproven(self.id, route, ctx, facts)
        return Finding(
            self.id, Severity.OK,
            TN("Vigie locks this computer after {n} minute without use.",
               "Vigie locks this computer after {n} minutes without use.", minutes),
            facts=facts,
        )


def last_lock(ctx: CheckContext, locker_command: str) -> dict | None:
    """The last lock's outcome, if it was made with the locker configured now."""
    try:
        record = json.loads(ctx.journal.get_state(LAST_LOCK_KEY) or "null")
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("locker_command") != locker_command:
        return None
    return record


def failure_reason(record: dict) -> Text | None:
    reason = record.get("reason")
    if not isinstance(reason, dict) or not isinstance(reason.get("msgid"), str):
        return None
    return T(reason["msgid"], **dict(reason.get("params") or {}))


def unproven(check_id: str, route: LockRoute, ctx: CheckContext, facts: dict[str, object]) -> Finding:
    return Finding(
        check_id, Severity.UNKNOWN, T("Vigie cannot be sure that this computer locks when it is left alone."),
        detail=T("Vigie would lock it with {tool}, a program it cannot see lock in advance. Each lock is "
                 "checked: if the screen does not lock, Vigie says so.", tool=route.how),
        fix=how_to_fix(ctx), facts=facts,
    )


def how_to_fix(ctx: CheckContext) -> Text:
    if ctx.platform.name == "linux":
        return T("Ask your IT provider to set a screen locker Vigie can check, for example: "
                 "vigie config set lock.locker_command \"i3lock -n\"")
    return T("Lock it yourself each time you leave it ({keys}), and tell your IT provider.",
             keys=ctx.platform.lock_shortcut)
