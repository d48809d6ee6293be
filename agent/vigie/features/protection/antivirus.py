"""antivirus: is an antivirus watching, with a recent virus list?

Windows: Microsoft Defender (real-time protection, age of its list, tamper protection) or the
product registered in Security Center. macOS: XProtect (always on, updated by Apple) and
Gatekeeper. Linux: ClamAV's list age when it is installed; without it, a note (INFO): an
antivirus is uncommon on Linux, and the note says what that means.
"""

from __future__ import annotations

from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.model import TN, Finding, Severity, T, Text
from vigie.platform.base import AntivirusProduct, AntivirusStatus, PlatformError

UPDATE_DEFENDER = T("Open Windows Security › Virus & threat protection › Protection updates and click “Check for "
                    "updates”.")
TURN_ON_DEFENDER = T("Open Windows Security › Virus & threat protection › Manage settings and turn on “Real-time "
                     "protection”.")
TAMPER = T("Open Windows Security › Virus & threat protection › Manage settings and turn on “Tamper Protection”.")
CLAMAV_UPDATE = T("Ask your IT provider to set up ClamAV's automatic update (freshclam).")
NO_ANTIVIRUS_LINUX = T("If you exchange files with Windows computers, ask your IT provider to install ClamAV with "
                       "its automatic update.")
GATEKEEPER = T("Ask your IT provider to turn Gatekeeper back on (System Settings › Privacy & Security › “Allow "
               "applications from”: App Store and identified developers).")


def _product_facts(product: AntivirusProduct) -> dict:
    return {"name": product.name, "enabled": product.enabled, "up_to_date": product.up_to_date,
            "signature_age_days": product.signature_age_days, "tamper_protected": product.tamper_protected,
            "signatures_date": product.signatures_date.isoformat() if product.signatures_date else None,
            "detail": product.detail}


def _days(n: int) -> Text:
    return TN("{n} day", "{n} days", n)


class AntivirusCheck:
    id: ClassVar[str] = "antivirus"
    label: ClassVar[Text] = T("Antivirus")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        settings = ctx.config.antivirus
        try:
            status = ctx.platform.antivirus_status(settings.timeout_seconds)
        except PlatformError as exc:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not read the state of the antivirus."),
                           detail=exc.reason, facts={"error": type(exc).__name__})
        products = [self._with_age(p, ctx) for p in status.products]
        facts = {"source": status.source, "products": [_product_facts(p) for p in products]}
        judge = {"defender": self._defender, "security_center": self._security_center, "clamav": self._clamav,
                 "xprotect": self._xprotect}.get(status.source, self._none)
        return judge(AntivirusStatus(status.source, tuple(products), status.detail), ctx, facts)

    @staticmethod
    def _with_age(product: AntivirusProduct, ctx: CheckContext) -> AntivirusProduct:
        """The list's age in days from its date, on the injected clock (a list dated in the future is 0)."""
        if product.signatures_date is None or product.signature_age_days is not None:
            return product
        age = max(0, (ctx.clock() - product.signatures_date).days)
        return AntivirusProduct(product.name, product.enabled, product.up_to_date, age, product.tamper_protected,
                                product.detail, product.signatures_date)

    def _age_finding(self, product: AntivirusProduct, ctx: CheckContext, facts: dict, fix: Text,
                     cap: Severity = Severity.CRITICAL) -> Finding | None:
        """WARNING past warning_days (or when the product says so), CRITICAL past critical_days."""
        settings = ctx.config.antivirus
        age = product.signature_age_days
        if age is not None and age > settings.critical_days and cap == Severity.CRITICAL:
            severity = Severity.CRITICAL
        elif (age is not None and age > settings.warning_days) or product.up_to_date is False:
            severity = Severity.WARNING
        else:
            return None
        title = (T("{name}'s virus list is {age} old.", name=product.name, age=_days(age)) if age is not None
                 else T("{name} says its virus list is out of date.", name=product.name))
        return Finding(self.id, severity, title, T("New viruses are not recognised until it is updated."), fix,
                       facts=facts)

    def _defender(self, status: AntivirusStatus, ctx: CheckContext, facts: dict) -> Finding:
        defender = status.products[0]
        if defender.enabled is None:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not read the state of the antivirus."),
                           facts=facts)
        if not defender.enabled:
            return Finding(self.id, Severity.CRITICAL, T("No antivirus is watching this computer."), T(
                "Microsoft Defender's real-time protection is off: nothing checks the files you open or download."),
                TURN_ON_DEFENDER, facts=facts)
        aged = self._age_finding(defender, ctx, facts, UPDATE_DEFENDER)
        if aged is not None:
            return aged
        if defender.tamper_protected is False:
            return Finding(self.id, Severity.WARNING, T("Microsoft Defender's tamper protection is off."), T(
                "A malicious program could switch the antivirus off without you noticing."), TAMPER, facts=facts)
        if defender.signature_age_days is None:
            return Finding(self.id, Severity.OK, T("Microsoft Defender protects this computer."), facts=facts)
        return Finding(self.id, Severity.OK, T("Microsoft Defender protects this computer (virus list {age} old).",
                                               age=_days(defender.signature_age_days)), facts=facts)

    def _security_center(self, status: AntivirusStatus, ctx: CheckContext, facts: dict) -> Finding:
        active = [p for p in status.products if p.enabled]
        if not active:
            names = ", ".join(p.name for p in status.products)
            return Finding(self.id, Severity.CRITICAL, T("No antivirus is watching this computer."), T(
                "Installed but turned off: {names}.", names=names) if names else None, TURN_ON_DEFENDER, facts=facts)
        product = active[0]
        aged = self._age_finding(product, ctx, facts, T("Open {name} and update it.", name=product.name))
        if aged is not None:
            return aged
        return Finding(self.id, Severity.OK, T("{name} protects this computer.", name=product.name), facts=facts)

    def _clamav(self, status: AntivirusStatus, ctx: CheckContext, facts: dict) -> Finding:
        clamav = status.products[0]
        if clamav.signatures_date is None:
            return Finding(self.id, Severity.WARNING, T("ClamAV has no official virus list: it does not recognise "
                                                        "common viruses."), fix=CLAMAV_UPDATE, facts=facts)
        # ClamAV scans when asked and watches nothing by itself: an old list is a warning, never urgent.
        aged = self._age_finding(clamav, ctx, facts, CLAMAV_UPDATE, cap=Severity.WARNING)
        if aged is not None:
            return aged
        title = T("ClamAV's virus list is {age} old.", age=_days(clamav.signature_age_days))
        return Finding(self.id, Severity.OK, title, T("ClamAV checks files when asked (the “Scan” button for USB "
                                                      "drives); it does not watch every file."), facts=facts)

    def _xprotect(self, status: AntivirusStatus, ctx: CheckContext, facts: dict) -> Finding:
        xprotect, gatekeeper = status.products[0], status.products[1]
        if gatekeeper.enabled is False:
            return Finding(self.id, Severity.WARNING, T("Gatekeeper is off: macOS no longer checks the apps you "
                                                        "open."), fix=GATEKEEPER, facts=facts)
        if xprotect.enabled is None or gatekeeper.enabled is None:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not read the state of the antivirus."),
                           facts=facts)
        return Finding(self.id, Severity.OK, T("XProtect and Gatekeeper protect this Mac."), facts=facts)

    def _none(self, status: AntivirusStatus, ctx: CheckContext, facts: dict) -> Finding:
        if ctx.platform.name == "linux":
            return Finding(self.id, Severity.INFO, T("No antivirus on this computer."), T(
                "That is common on Linux, where viruses are rare. But files you pass on (USB drives, attachments) "
                "could carry Windows viruses to others."), NO_ANTIVIRUS_LINUX, facts=facts)
        return Finding(self.id, Severity.CRITICAL, T("No antivirus is watching this computer."),
                       fix=TURN_ON_DEFENDER if ctx.platform.name == "windows" else None, facts=facts)
