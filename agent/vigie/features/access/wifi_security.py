"""wifi_security: is the Wi-Fi network in use protected (WPA2, WPA3), or open or weak (none, WEP, WPA)?"""

from __future__ import annotations

from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.model import Finding, Severity, T, Text
from vigie.platform.base import PlatformError, WifiState

STRONG = {"wpa2": "WPA2", "wpa3": "WPA3"}
WEAK = {"wep": "WEP", "wpa1": "WPA"}
OPEN = {"open", "owe"}  # OWE ("Enhanced Open") encrypts, but anyone can join
FIX = T("Use a network protected by WPA2 or WPA3, or a cable. For the practice's own network, have the box set "
        "to WPA2 or WPA3 with a long password.")


class WifiSecurityCheck:
    id: ClassVar[str] = "wifi_security"
    label: ClassVar[Text] = T("Wi-Fi")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        try:
            state = ctx.platform.wifi()
        except PlatformError as exc:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not read the Wi-Fi network in use."),
                           detail=exc.reason, facts={"error": type(exc).__name__})
        return self._judge(state)

    def _judge(self, state: WifiState) -> Finding:
        facts = {"connected": state.connected, "source": state.source, "ssid": state.ssid, "security": state.security,
                 "level": state.level}
        if not state.connected:
            return Finding(self.id, Severity.INFO, T("No Wi-Fi in use."), facts=facts)
        network = state.ssid or "?"
        if state.level in STRONG:
            return Finding(self.id, Severity.OK, T("The Wi-Fi network “{network}” is protected ({protection}).",
                                                   network=network, protection=STRONG[state.level]), facts=facts)
        if state.level in OPEN:
            return Finding(self.id, Severity.WARNING, T("The Wi-Fi network “{network}” is open to anyone.",
                                                        network=network),
                           T("Anyone nearby can join it and try to reach this computer."), FIX, facts=facts)
        if state.level in WEAK:
            return Finding(self.id, Severity.WARNING,
                           T("The Wi-Fi network “{network}” accepts an old protection ({protection}).",
                             network=network, protection=WEAK[state.level]),
                           T("This protection can be broken in minutes by someone nearby."), FIX, facts=facts)
        return Finding(self.id, Severity.UNKNOWN, T("Vigie could not tell how the Wi-Fi network “{network}” is "
                                                    "protected.", network=network), facts=facts)
