"""password_manager: is a password manager installed? (INFO when none: the flyer recommends one; a
browser's own password store is not one.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.model import Finding, Severity, T, Text
from vigie.platform.base import InstalledApps, PlatformError


@dataclass(frozen=True)
class Manager:
    name: str
    ids: tuple[str, ...]  # lower-cased, as installed: desktop file id or Name=, executable, DisplayName, .app


MANAGERS = (
    Manager("KeePassXC", ("keepassxc", "org.keepassxc.keepassxc")),
    Manager("KeePass", ("keepass", "keepass2", "keepass password safe")),
    Manager("Bitwarden", ("bitwarden", "com.bitwarden.desktop")),
    Manager("1Password", ("1password", "com.1password.1password")),
    Manager("Dashlane", ("dashlane",)),
    Manager("Proton Pass", ("proton pass", "proton-pass", "me.proton.pass")),
    Manager("Enpass", ("enpass", "io.enpass.enpass")),
    Manager("NordPass", ("nordpass",)),
    Manager("Keeper", ("keeper password manager",)),
    Manager("RoboForm", ("roboform",)),
    Manager("KeeWeb", ("keeweb", "net.antelle.keeweb")),
    Manager("MacPass", ("macpass",)),
    Manager("Strongbox", ("strongbox",)),
)


def matches(installed: str, manager_id: str) -> bool:
    """The same name, or followed by a version or edition ("keepass password safe 2.57", "1password 7")."""
    return installed == manager_id or installed.startswith(manager_id + " ")


def managers_in(names: Iterable[str]) -> list[str]:
    installed = set(names)
    return [m.name for m in MANAGERS if any(matches(name, i) for name in installed for i in m.ids)]


class PasswordManagerCheck:
    id: ClassVar[str] = "password_manager"
    label: ClassVar[Text] = T("Password manager")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        try:
            apps = ctx.platform.installed_apps()
        except PlatformError as exc:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not list the applications installed."),
                           detail=exc.reason, facts={"error": type(exc).__name__})
        return self._judge(apps)

    def _judge(self, apps: InstalledApps) -> Finding:
        found = managers_in(apps.names)
        facts = {"found": found, "sources": list(apps.sources)}
        if found:
            return Finding(self.id, Severity.OK, T("Password manager installed: {names}.", names=", ".join(found)),
                           facts=facts)
        return Finding(
            self.id, Severity.INFO, T("No password manager was found on this computer."),
            T("A manager keeps a long, different password for each site: you only remember one."),
            T("Install the one your IT provider recommends (KeePassXC is free); the browser's own does not count. "
              "If you already use one in the browser, you can ignore this."),
            facts=facts)
