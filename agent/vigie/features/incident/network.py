"""Cut the network, then check that it is cut: what the guide and `vigie incident network` call.

The OS calls are the platform's (Platform.network_state / can_cut_network / cut_network, parsed by pure
functions in platform.parsers, tested on real captures). "Cut" means: no default route, and no interface
other than loopback that still has a routable address with a route through it. Connections are named in
the user's words (« câble », « Wi-Fi »), never by their interface name (issue 19, point 2). The guide offers
its « Couper le réseau » button only where Vigie has a way and the right to cut; the cable and Wi-Fi
instructions are always shown, with where the Wi-Fi icon is on this desktop (point 3).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from vigie.model import T, Text
from vigie.platform import Platform, get_platform, platform_name
from vigie.platform.base import MOBILE, OTHER, PHONE, VPN, WIFI, WIRED, NetworkState, PlatformError
from vigie.platform.parsers import NETWORK_UNREADABLE as UNREADABLE

log = logging.getLogger(__name__)
TIMEOUT = 30.0  # s; nmcli and PowerShell may take a few seconds to bring everything down
PROBE_WAIT = 6.0  # s; at most this long before the network step shows without the button

__all__ = [
    "UNREADABLE",
    "CutAvailability",
    "CutResult",
    "NetworkState",
    "check_detail",
    "connections_from_detail",
    "connections_text",
    "cut_network",
    "desktop_family",
    "join_texts",
    "manual_steps",
    "read_state",
]

KIND_WORDS: dict[str, Text] = {
    WIRED: T("cable"),
    WIFI: T("Wi-Fi"),
    MOBILE: T("4G/5G mobile connection"),
    PHONE: T("phone sharing its connection"),
    VPN: T("VPN (remote access)"),
    OTHER: T("another connection"),
}


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
        log.warning("network: not cut by Vigie: %s", exc.log_detail or exc)
        return CutResult(False, f"{platform.name}.cut_network", exc.reason)


class CutAvailability:
    """Whether Vigie may offer « Couper le réseau », asked on a thread as soon as the guide starts (the
    system may take a moment to answer: NetworkManager, ConnMan)."""

    def __init__(self, platform: Platform | None = None) -> None:
        self._answer: bool | None = None
        self._done = threading.Event()
        self._platform = platform
        threading.Thread(target=self._ask, name="vigie-incident-can-cut", daemon=True).start()

    def _ask(self) -> None:
        try:
            self._answer = bool((self._platform or get_platform()).can_cut_network())
        except Exception:  # a surprise here only hides the button: the manual steps stay
            log.exception("network: cannot tell whether Vigie may cut the network")
            self._answer = False
        finally:
            self._done.set()

    def wait(self, timeout: float = PROBE_WAIT) -> bool:
        if not self._done.wait(timeout):
            log.warning("network: no answer within %.0f s on whether Vigie may cut; button not offered", timeout)
            return False
        log.info("network: Vigie %s cut the network here", "may" if self._answer else "may not")
        return bool(self._answer)


def connections_text(state: NetworkState, with_names: bool = False) -> Text:
    """« câble, Wi-Fi »: what still connects the computer, in plain words. with_names adds the interface
    names for the report's readers (« câble (eth0) »)."""
    words: list[Text] = []
    for interface in state.interfaces:
        word = KIND_WORDS.get(state.kind_of(interface), KIND_WORDS[OTHER])
        words.append(T("{what} ({name})", what=word, name=interface) if with_names else word)
    unique: list[Text] = []
    for word in words:  # two cables are « câble » once (a Text is not hashable)
        if word not in unique:
            unique.append(word)
    return join_texts(unique) if unique else T("nothing")


def join_texts(items: list[Text]) -> Text:
    """« a, b, c » in the reader's language."""
    text = items[0]
    for item in items[1:]:
        text = T("{list}, {item}", list=text, item=item)
    return text


def check_detail(state: NetworkState) -> dict[str, str | int | bool | None]:
    """A check as stored in the incident's timeline: the verdict, the interfaces (for the expert) and what
    they are (« wired », « wifi »: the report says them in words)."""
    return {"cut": state.cut, "interfaces": ", ".join(state.interfaces),
            "kinds": ", ".join(f"{name}={state.kind_of(name)}" for name in state.interfaces)}


def connections_from_detail(detail: dict, with_names: bool = False) -> Text:
    """The words of a stored check (check_detail); a check stored before kinds existed names no kind."""
    names = [name.strip() for name in str(detail.get("interfaces") or "").split(",") if name.strip()]
    kinds = dict(pair.split("=", 1) for pair in str(detail.get("kinds") or "").split(", ") if "=" in pair)
    return connections_text(NetworkState(tuple(names), (), tuple((name, kinds.get(name, OTHER)) for name in names)),
                            with_names)


def desktop_family(xdg_current_desktop: str | None = None) -> str:
    """XDG_CURRENT_DESKTOP (« ubuntu:GNOME », « KDE », « X-Cinnamon »…) → where its network icon is."""
    value = (os.environ.get("XDG_CURRENT_DESKTOP", "") if xdg_current_desktop is None else xdg_current_desktop)
    names = [name.strip().lower() for name in value.split(":") if name.strip()]
    for name in names:
        if name in ("gnome", "ubuntu", "unity", "pantheon", "gnome-classic", "gnome-flashback"):
            return "top"
        if name in ("kde", "x-cinnamon", "cinnamon", "lxqt", "lxde", "deepin", "budgie"):
            return "bottom"
        if name in ("xfce", "mate"):
            return "panel"
    return "unknown"


def manual_steps(system: str | None = None, desktop: str | None = None) -> tuple[Text, ...]:
    """What the user does by hand, in every case: the cable, then Wi-Fi, then a shared phone.
    `system` is a platform name ("linux", "windows", "macos"), this one's by default; `desktop` a value of
    XDG_CURRENT_DESKTOP (Linux), this session's by default."""
    system = system or platform_name()
    if system == "windows":
        wifi = T("Wi-Fi: click the network icon next to the clock, at the bottom right of the screen, "
                 "then click “Airplane mode”.")
    elif system == "macos":
        wifi = T("Wi-Fi: click the Wi-Fi icon in the menu bar, at the top right of the screen, and turn Wi-Fi off.")
    else:
        wifi = {
            "top": T("Wi-Fi: click the icons at the top right of the screen (network, sound, battery), then turn "
                     "Wi-Fi off or turn on airplane mode."),
            "bottom": T("Wi-Fi: click the network icon next to the clock, at the bottom right of the screen, then "
                        "turn Wi-Fi off or turn on airplane mode."),
            "panel": T("Wi-Fi: click the network icon next to the clock, at the right end of the panel (at the "
                       "bottom or the top of the screen), then turn Wi-Fi off."),
        }.get(desktop_family(desktop), T("Wi-Fi: click the network icon next to the clock (usually at the right "
                                         "end of a bar at the top or the bottom of the screen), then turn Wi-Fi "
                                         "off."))
    return (
        T("Cable: unplug the network cable from the computer (its plug looks like a wide telephone plug)."),
        wifi,
        T("Phone: stop any phone sharing its connection with this computer."),
    )
