"""Cut the network, then check that it is cut: what the guide and `vigie incident network` call.

The OS calls are the platform's (Platform.network_state / cut_network, parsed by pure functions in
platform.parsers, tested on real captures). "Cut" means: no default route, and no interface other than
loopback that still has a routable address with a route through it. Cable and Wi-Fi instructions are
always shown: Vigie may lack the right to cut, and a cable pulled out is the surest cut of all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vigie.model import T, Text
from vigie.platform import Platform, get_platform, platform_name
from vigie.platform.base import NetworkState, PlatformError
from vigie.platform.parsers import NETWORK_UNREADABLE as UNREADABLE

log = logging.getLogger(__name__)
TIMEOUT = 30.0  # s; nmcli and PowerShell may take a few seconds to bring everything down

__all__ = ["UNREADABLE", "CutResult", "NetworkState", "cut_network", "manual_steps", "read_state"]


@dataclass(frozen=True)
class CutResult:
    done: bool  # Vigie's own command succeeded (the check says whether the network is really cut)
    method: str
    reason: Text | None = None  # why Vigie could not, in plain words


def read_state(platform: Platform | None = None) -> NetworkState:
    """Raises PlatformError when the state cannot be read."""
    return (platform or get_platform()).network_state()


def cut_network(platform: Platform | None = None, timeout: float = TIMEOUT) -> CutResult:
    platform = platform or get_platform()
    try:
        return CutResult(True, platform.cut_network(timeout))
    except PlatformError as exc:
        log.warning("network: not cut by Vigie: %s", exc)
        return CutResult(False, f"{platform.name}.cut_network", exc.reason)


def manual_steps(system: str | None = None) -> tuple[Text, ...]:
    """What the user does by hand, in every case: the cable, then Wi-Fi, then a shared phone.
    `system` is a platform name (\"linux\", \"windows\", \"macos\"); this one's by default."""
    system = system or platform_name()
    if system == "windows":
        wifi = T("Wi-Fi: click the network icon next to the clock, at the bottom right of the screen, "
                 "then click “Airplane mode”.")
    elif system == "macos":
        wifi = T("Wi-Fi: click the Wi-Fi icon in the menu bar, at the top right of the screen, and turn Wi-Fi off.")
    else:
        wifi = T("Wi-Fi: click the network icon at the top right of the screen and turn Wi-Fi off "
                 "(or turn on airplane mode).")
    return (
        T("Cable: unplug the network cable from the computer."),
        wifi,
        T("Phone: stop any phone sharing its connection with this computer."),
    )
