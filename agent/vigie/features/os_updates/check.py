"""os_updates: are operating-system updates waiting, and have security fixes waited too long?"""

from __future__ import annotations

from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.model import TN, Action, Finding, Severity, T, Text
from vigie.platform.base import PlatformError, UpdateStatus

HOW_TO_UPDATE = {
    "windows": T("Open Settings › Windows Update, click “Install”, then restart when Windows asks."),
    "macos": T("Open System Settings › General › Software Update and install, then restart if asked."),
    "linux": T("Open your software updater and install the updates, then restart if asked."),
}

OPEN_UPDATER = "open_updater"  # the feature's action: opens the OS's updater window
OPEN_UPDATER_ACTION = Action(f"os_updates:{OPEN_UPDATER}", T("Open the updates"))


def updater_action(ctx: CheckContext) -> Action | None:
    """The button, only where the OS has an updater window to open (a Linux without one: none)."""
    return OPEN_UPDATER_ACTION if ctx.platform.updater_command() else None


class OsUpdatesCheck:
    id: ClassVar[str] = "os_updates"
    label: ClassVar[Text] = T("System updates")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        settings = ctx.config.os_updates
        try:
            status = ctx.platform.pending_updates(timeout=settings.timeout_seconds)
        except PlatformError as exc:
            return Finding(
                self.id, Severity.UNKNOWN, T("Vigie could not check for updates."), detail=exc.reason,
                facts={"error": type(exc).__name__},
            )
        return self._judge(status, ctx)

    def _judge(self, status: UpdateStatus, ctx: CheckContext) -> Finding:
        now = ctx.clock()
        security = status.security_updates
        first_seen = ctx.journal.first_seen(self.id, {u.name for u in security}, now)
        oldest_days = max(((now - seen).days for seen in first_seen.values()), default=0)
        facts = {
            "source": status.source,
            "pending": len(status.updates),
            "security": len(security),
            "oldest_security_days": oldest_days,
        }
        fix = HOW_TO_UPDATE.get(ctx.platform.name, HOW_TO_UPDATE["linux"])
        if not status.updates:
            return Finding(self.id, Severity.OK, T("The system is up to date."), facts=facts)
        detail = self._detail(len(status.updates), len(security))
        grace = ctx.config.os_updates.security_grace_days
        if security and oldest_days > grace:
            title = TN(
                "A security update has been waiting for more than {days} days.",
                "{n} security updates have been waiting for more than {days} days.",
                len(security), days=grace,
            )
            return Finding(self.id, Severity.CRITICAL, title, detail, fix, updater_action(ctx), facts=facts)
        title = TN("{n} update is waiting to be installed.", "{n} updates are waiting to be installed.",
                   len(status.updates))
        return Finding(self.id, Severity.WARNING, title, detail, fix, updater_action(ctx), facts=facts)

    @staticmethod
    def _detail(pending: int, security: int) -> Text:
        if security:
            return TN(
                "{n} of them fixes security flaws: install it soon.",
                "{n} of them fix security flaws: install them soon.",
                security,
            )
        return TN("{n} update in all, none marked as a security fix.",
                  "{n} updates in all, none marked as a security fix.", pending)
