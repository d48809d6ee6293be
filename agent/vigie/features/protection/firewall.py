"""firewall: is the firewall on, for every network profile?

Windows: each profile (domain, private, public) must be on; off is CRITICAL, since Windows turns
it on by itself and someone switched it off. macOS and Linux ship with it off: WARNING, with the
way to turn it on. Linux reads nftables (root), else ufw or firewalld.
"""

from __future__ import annotations

from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.model import Finding, Severity, T, Text
from vigie.platform.base import FirewallProfile, PlatformError

PROFILE_NAMES = {"Domain": T("domain network"), "Private": T("private network"), "Public": T("public network")}
TURN_ON = {
    "windows": T("Open Windows Security › Firewall & network protection and turn the firewall on for each network "
                 "(domain, private, public)."),
    "macos": T("Open System Settings › Network › Firewall and turn it on."),
    "linux": T("Ask your IT provider to turn on the firewall (on Ubuntu: “ufw enable”): it blocks incoming "
               "connections and changes nothing else."),
}
REACHABLE = T("Programs that listen on the network can then be reached by anyone on the same network (the "
              "practice's Wi-Fi, a hotel's...).")


def joined(names: list[Text | str]) -> Text | str:
    """"a, b, c" as one Text, each name translated at the edge."""
    if len(names) == 1:
        return names[0]
    return T("{first}, {rest}", first=names[0], rest=joined(names[1:]))


def _name(profile: FirewallProfile) -> Text | str:
    return PROFILE_NAMES.get(profile.name, profile.name)


class FirewallCheck:
    id: ClassVar[str] = "firewall"
    label: ClassVar[Text] = T("Firewall")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        try:
            status = ctx.platform.firewall_status(ctx.config.firewall.timeout_seconds)
        except PlatformError as exc:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not read the state of the firewall."),
                           detail=exc.reason, facts={"error": type(exc).__name__})
        profiles = list(status.profiles)
        facts = {"source": status.source, "profiles": {p.name: p.enabled for p in profiles}, "detail": status.detail}
        os_name = ctx.platform.name
        fix = TURN_ON.get(os_name, TURN_ON["linux"])
        severity_off = Severity.CRITICAL if os_name == "windows" else Severity.WARNING
        if not profiles:
            return Finding(self.id, severity_off, T("No firewall is set up on this computer."), REACHABLE, fix,
                           facts=facts)
        off = [p for p in profiles if p.enabled is False]
        unread = [p for p in profiles if p.enabled is None]
        if off and len(off) == len(profiles):
            return Finding(self.id, severity_off, T("The firewall is off."), REACHABLE, fix, facts=facts)
        if off:
            return Finding(self.id, severity_off, T("The firewall is off for: {profiles}.",
                                                    profiles=joined([_name(p) for p in off])), REACHABLE, fix,
                           facts=facts)
        if unread:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not read the state of the firewall for: "
                                                        "{profiles}.", profiles=joined([_name(p) for p in unread])),
                           facts=facts)
        return Finding(self.id, Severity.OK, T("The firewall is on."), facts=facts)
