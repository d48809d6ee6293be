"""lock_policy: does the computer lock itself, by its own settings, when it is left alone?

Vigie's own idle lock (idle_lock) only works while Vigie runs; this check reads the operating
system's setting, which protects the session even when Vigie is not there.
"""

from __future__ import annotations

import math
from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.model import TN, Finding, Severity, T, Text
from vigie.platform.base import LockPolicy, PlatformError

RECOMMENDED_MINUTES = 10

# What to do, click by click, per LockPolicy.source; n = the minutes to choose.
HOW_TO_FIX = {
    "windows": lambda n: TN(
        "Open Settings › Accounts › Sign-in options and, under “If you've been away, when should Windows "
        "require you to sign in again?”, choose “When PC wakes up from sleep”. Then open Settings › System › "
        "Power and set the screen to turn off after {n} minute.",
        "Open Settings › Accounts › Sign-in options and, under “If you've been away, when should Windows "
        "require you to sign in again?”, choose “When PC wakes up from sleep”. Then open Settings › System › "
        "Power and set the screen to turn off after {n} minutes.", n),
    "macos": lambda n: TN(
        "Open System Settings › Lock Screen: start the screen saver or turn the display off after {n} minute "
        "at most, and require the password “Immediately” after that.",
        "Open System Settings › Lock Screen: start the screen saver or turn the display off after {n} minutes "
        "at most, and require the password “Immediately” after that.", n),
    "gnome": lambda n: TN(
        "Open Settings › Privacy › Screen: set “Blank Screen Delay” to {n} minute and turn on “Automatic "
        "Screen Lock”, with its delay set to “Screen Turns Off”.",
        "Open Settings › Privacy › Screen: set “Blank Screen Delay” to {n} minutes and turn on “Automatic "
        "Screen Lock”, with its delay set to “Screen Turns Off”.", n),
    "kde": lambda n: TN(
        "Open System Settings › Screen Locking: tick “Lock screen automatically” and choose {n} minute.",
        "Open System Settings › Screen Locking: tick “Lock screen automatically” and choose {n} minutes.", n),
    "light-locker": lambda n: TN(
        "Open Settings › Power Manager: in “Display”, blank the screen after {n} minute; in “Security”, lock "
        "the session “When the screensaver is activated”.",
        "Open Settings › Power Manager: in “Display”, blank the screen after {n} minutes; in “Security”, lock "
        "the session “When the screensaver is activated”.", n),
    "xscreensaver": lambda n: TN(
        "Open Settings › Screensaver: set “Blank After” to {n} minute and tick “Lock Screen After”.",
        "Open Settings › Screensaver: set “Blank After” to {n} minutes and tick “Lock Screen After”.", n),
    "xfce4-screensaver": lambda n: TN(
        "Open Settings › Screensaver: activate it after {n} minute and, in “Lock Screen”, turn on the lock "
        "when the screensaver starts.",
        "Open Settings › Screensaver: activate it after {n} minutes and, in “Lock Screen”, turn on the lock "
        "when the screensaver starts.", n),
}


class LockPolicyCheck:
    id: ClassVar[str] = "lock_policy"
    label: ClassVar[Text] = T("Automatic lock")  # 14 characters, as long as the others: tables stay aligned
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        max_seconds = ctx.config.lock_policy.max_minutes * 60
        try:
            policy = ctx.platform.lock_policy()
        except PlatformError as exc:
            return Finding(
                self.id, Severity.UNKNOWN, T("Vigie could not read when this computer locks itself."),
                detail=exc.reason, facts={"error": type(exc).__name__, "max_seconds": max_seconds},
            )
        return self._judge(policy, max_seconds)

    def _judge(self, policy: LockPolicy, max_seconds: int) -> Finding:
        after = policy.lock_after_seconds
        facts = {"source": policy.source, "lock_after_seconds": after, "max_seconds": max_seconds,
                 "detail": policy.detail}
        minutes = max(1, math.ceil(after / 60)) if after is not None else 0  # rounded up: never flattering
        if after is not None and after <= max_seconds:
            title = TN("This computer locks itself within {n} minute when left alone.",
                       "This computer locks itself within {n} minutes when left alone.", minutes)
            return Finding(self.id, Severity.OK, title, facts=facts)
        if after is None:
            title = T("This computer never locks itself when left alone.")
        else:
            title = TN("This computer waits {n} minute before locking itself.",
                       "This computer waits {n} minutes before locking itself.", minutes)
        limit = max_seconds // 60
        detail = TN("Anyone passing by can use it while you are away. It should lock itself within {n} minute.",
                    "Anyone passing by can use it while you are away. It should lock itself within {n} minutes.",
                    limit)
        how_to = HOW_TO_FIX.get(policy.source)
        fix = how_to(min(limit, RECOMMENDED_MINUTES)) if how_to else None
        return Finding(self.id, Severity.WARNING, title, detail, fix, facts=facts)
