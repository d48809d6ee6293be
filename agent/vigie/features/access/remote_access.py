"""remote_access: can someone reach this computer from the network (Remote Desktop, SSH, screen
sharing, AnyDesk, TeamViewer, shared folders) without the IT provider having declared it?"""

from __future__ import annotations

from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.features.access.texts import joined
from vigie.model import Finding, Severity, T, Text
from vigie.platform.base import PlatformError, RemoteAccessReport

WHAT = {
    "ssh": T("SSH server"),
    "rdp": T("Remote Desktop"),
    "vnc": T("screen sharing"),
    "anydesk": T("AnyDesk"),
    "teamviewer": T("TeamViewer"),
    "file_sharing": T("shared folders"),
}
DETAIL = T("Anyone who gets a password, or uses a flaw, can then get into this computer from the network.")
HOW_TO_CLOSE = {
    "windows": T("If nobody at the practice asked for it, have it turned off: Settings › System › Remote Desktop; "
                 "uninstall AnyDesk or TeamViewer if nobody uses them; stop sharing folders nobody needs. If your "
                 "IT provider uses it, they can declare it in Vigie's settings."),
    "macos": T("If nobody at the practice asked for it, turn it off in System Settings › General › Sharing; "
               "uninstall AnyDesk or TeamViewer if nobody uses them. If your IT provider uses it, they can declare "
               "it in Vigie's settings."),
    "linux": T("If nobody at the practice asked for it, ask your IT provider to stop or uninstall it. If they use "
               "it, they can declare it in Vigie's settings."),
}


class RemoteAccessCheck:
    id: ClassVar[str] = "remote_access"
    label: ClassVar[Text] = T("Remote access")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        expected = list(ctx.config.remote_access.expected)
        try:
            report = ctx.platform.remote_access()
        except PlatformError as exc:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not check the remote access to this computer."),
                           detail=exc.reason, facts={"error": type(exc).__name__, "expected": expected})
        return self._judge(report, expected, ctx.platform.name)

    def _judge(self, report: RemoteAccessReport, expected: list[str], platform: str) -> Finding:
        facts = {
            "found": [{"kind": a.kind, "detail": a.detail, "expected": a.kind in expected} for a in report.found],
            "expected": expected,
            "unreadable": list(report.unreadable),
        }
        open_kinds = list(dict.fromkeys(a.kind for a in report.found if a.kind not in expected))
        if open_kinds:
            names = [WHAT[kind] for kind in open_kinds]
            title = T("Remote access open on this computer: {what}.", what=joined(names))
            return Finding(self.id, Severity.WARNING, title, DETAIL, HOW_TO_CLOSE.get(platform, HOW_TO_CLOSE["linux"]),
                           facts=facts)
        if report.unreadable:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not check every remote access to this computer."),
                           facts=facts)
        declared = list(dict.fromkeys(a.kind for a in report.found))
        if declared:
            title = T("Remote access open only as your IT provider declared: {what}.",
                      what=joined([WHAT[kind] for kind in declared]))
            return Finding(self.id, Severity.OK, title, facts=facts)
        return Finding(self.id, Severity.OK, T("No remote access is open on this computer."), facts=facts)
