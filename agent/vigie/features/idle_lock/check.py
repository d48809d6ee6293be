"""idle_lock: can Vigie lock this computer when it is left unattended?"""

from __future__ import annotations

from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.model import TN, Finding, Severity, T, Text
from vigie.platform.base import PlatformError


class IdleLockCheck:
    id: ClassVar[str] = "idle_lock"
    label: ClassVar[Text] = T("Lock when away")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        settings = ctx.config.idle_lock
        minutes = max(1, round(settings.lock_after_seconds / 60))
        facts = {"enabled": settings.enabled, "lock_after_seconds": settings.lock_after_seconds}
        if not settings.enabled:
            return Finding(self.id, Severity.INFO, T("Vigie does not lock this computer when it is left alone."),
                           fix=T("Turn it back on: vigie config set idle_lock.enabled oui"), facts=facts)
        try:
            source = ctx.platform.idle_state().source
        except PlatformError as exc:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie cannot lock this computer when it is left alone."),
                           detail=exc.reason, fix=T("Lock it yourself each time you leave it."), facts=facts)
        return Finding(
            self.id, Severity.OK,
            TN("Vigie locks this computer after {n} minute without use.",
               "Vigie locks this computer after {n} minutes without use.", minutes),
            facts={**facts, "source": source},
        )
