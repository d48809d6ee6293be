"""Cut the network, then check that it is cut. Each OS call is one small function; what they print
is read by pure functions tested on real captures (tests/fixtures/linux-ip-j-*).

"Cut" means: no default route, and no interface other than loopback that still has a routable
address (not link-local) with a route through it. Cable and Wi-Fi instructions are always shown:
Vigie may lack the right to cut, and a cable pulled out is the surest cut of all.
"""

from __future__ import annotations

import ctypes
import ipaddress
import json
import logging
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from vigie.model import T, Text
from vigie.platform import proc
from vigie.platform.base import NotSupported, PlatformError, ToolFailed

log = logging.getLogger(__name__)
TIMEOUT = 30.0  # s; nmcli and PowerShell may take a few seconds to bring everything down
CHECK_TIMEOUT = 10.0
_DEAD_ROUTE_TYPES = {"unreachable", "blackhole", "prohibit", "throw"}
UNREADABLE = T("Vigie could not read the state of the network.")


@dataclass(frozen=True)
class NetworkState:
    connected: tuple[str, ...]  # interfaces with a routable address and a route through them
    default_via: tuple[str, ...]  # interfaces that carry a default route

    @property
    def cut(self) -> bool:
        return not self.connected and not self.default_via

    @property
    def interfaces(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.default_via, *self.connected)))

    def detail(self) -> dict[str, str | bool]:
        return {"cut": self.cut, "connected": ", ".join(self.connected), "default_via": ", ".join(self.default_via)}


@dataclass(frozen=True)
class CutResult:
    done: bool  # Vigie's own command succeeded (the check says whether the network is really cut)
    method: str
    reason: Text | None = None  # why Vigie could not, in plain words


# --- Linux: iproute2's JSON (pure part) ---

def parse_ip_json(text: str) -> list[dict]:
    try:
        data = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise ToolFailed(UNREADABLE, f"ip: bad JSON: {exc}") from exc
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ToolFailed(UNREADABLE, "ip: not a JSON list")
    return data


def _is_loopback(link: Mapping) -> bool:
    return link.get("link_type") == "loopback" or "LOOPBACK" in link.get("flags", ()) or link.get("ifname") == "lo"


def _is_live(link: Mapping) -> bool:
    flags = link.get("flags", ())
    return "UP" in flags and "NO-CARRIER" not in flags


def _routable(link: Mapping) -> bool:
    """An address beyond the link itself (IPv4 or IPv6, global or site scope)."""
    return any(info.get("scope") in ("global", "site") for info in link.get("addr_info", ()))


def _route_devices(route: Mapping) -> list[str]:
    hops = route.get("nexthops") or [route]  # multipath routes list their devices per hop
    return [hop["dev"] for hop in hops if isinstance(hop, Mapping) and hop.get("dev")]


def _usable(route: Mapping) -> bool:
    dst = str(route.get("dst", ""))
    return ("linkdown" not in route.get("flags", ()) and route.get("type", "unicast") not in _DEAD_ROUTE_TYPES
            and not dst.startswith(("fe80:", "ff00:")))


def assess_linux(links: Iterable[Mapping], routes: Iterable[Mapping]) -> NetworkState:
    """From `ip -j addr` and `ip -j route` (IPv4 and IPv6 together)."""
    links = list(links)
    loopbacks = {"lo"} | {str(link.get("ifname")) for link in links if _is_loopback(link)}
    links = [link for link in links if not _is_loopback(link)]
    usable = [route for route in routes if _usable(route)]
    routed = {dev for route in usable for dev in _route_devices(route)}
    connected = tuple(link["ifname"] for link in links
                      if _is_live(link) and _routable(link) and link.get("ifname") in routed)
    default_via = tuple(dict.fromkeys(dev for route in usable if route.get("dst") == "default"
                                      for dev in _route_devices(route) if dev not in loopbacks))
    return NetworkState(connected, default_via)


def linux_ip_json(args: Sequence[str], prefix: Sequence[str] = (), timeout: float = CHECK_TIMEOUT) -> str:
    """`ip -j ARGS`; prefix runs it elsewhere (the tests: `ip netns exec NS`)."""
    return proc.run([*prefix, "ip", "-j", *args], timeout).stdout


def read_linux(prefix: Sequence[str] = ()) -> NetworkState:
    links = parse_ip_json(linux_ip_json(["addr", "show"], prefix))
    routes = parse_ip_json(linux_ip_json(["-4", "route", "show"], prefix))
    routes += parse_ip_json(linux_ip_json(["-6", "route", "show"], prefix))
    return assess_linux(links, routes)


def cut_linux(timeout: float = TIMEOUT) -> str:
    if shutil.which("nmcli") is None:
        raise NotSupported(T("NetworkManager is not installed: Vigie cannot cut the network by itself here."))
    proc.run(["nmcli", "networking", "off"], timeout)
    return "nmcli networking off"


# --- Windows and macOS: psutil for the addresses, the OS for the default routes ---

def addressed_interfaces(stats: Mapping[str, object], addresses: Mapping[str, Iterable[object]]) -> tuple[str, ...]:
    """Interfaces that are up with a routable address (psutil.net_if_stats / net_if_addrs shapes)."""
    found = []
    for name, items in addresses.items():
        stat = stats.get(name)
        if stat is None or not getattr(stat, "isup", False):
            continue
        if any(_routable_address(getattr(item, "address", "")) for item in items):
            found.append(name)
    return tuple(found)


def _routable_address(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False  # a MAC address (AF_LINK / AF_PACKET)
    return not (address.is_loopback or address.is_link_local or address.is_unspecified)


def psutil_interfaces() -> tuple[str, ...]:
    import psutil

    return addressed_interfaces(psutil.net_if_stats(), psutil.net_if_addrs())


WINDOWS_DEFAULT_ROUTES = ("Get-NetRoute -DestinationPrefix '0.0.0.0/0','::/0' -PolicyStore ActiveStore "
                          "-ErrorAction SilentlyContinue | Select-Object InterfaceAlias,NextHop | "
                          "ConvertTo-Json -Compress")
WINDOWS_DISABLE_ADAPTERS = ("Get-NetAdapter | Where-Object { $_.Status -ne 'Disabled' } | "
                            "Disable-NetAdapter -Confirm:$false -ErrorAction Stop")


def _powershell(script: str, timeout: float) -> str:
    argv = ["powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
            "-Command", script]
    return proc.run(argv, timeout).stdout


def parse_windows_routes(text: str) -> tuple[str, ...]:
    """ConvertTo-Json prints nothing for no route, an object for one, a list for several."""
    if not text.strip():
        return ()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolFailed(UNREADABLE, f"Get-NetRoute: bad JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    return tuple(dict.fromkeys(str(item.get("InterfaceAlias", "?")) for item in items if isinstance(item, dict)))


def windows_is_admin() -> bool:
    try:
        return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return False


def read_windows() -> NetworkState:
    routes = parse_windows_routes(_powershell(WINDOWS_DEFAULT_ROUTES, CHECK_TIMEOUT * 3))
    return NetworkState(psutil_interfaces(), routes)


def cut_windows(timeout: float = TIMEOUT) -> str:
    if not windows_is_admin():
        raise NotSupported(T("Vigie does not have the right to turn off the network adapters on this computer."))
    _powershell(WINDOWS_DISABLE_ADAPTERS, timeout)
    return "Disable-NetAdapter"


def parse_route_get(text: str) -> str | None:
    """`route -n get default`: the interface line, absent when there is no default route."""
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "interface" and value.strip():
            return value.strip()
    return None


def macos_route_get(family: str, timeout: float = CHECK_TIMEOUT) -> str:
    # Exit code 1 and "not in table" when there is no such route: not a failure here.
    return proc.run(["route", "-n", "get", family, "default"], timeout, ok_codes=(0, 1)).stdout


def read_macos() -> NetworkState:
    routes = [parse_route_get(macos_route_get(family)) for family in ("-inet", "-inet6")]
    return NetworkState(psutil_interfaces(), tuple(dict.fromkeys(r for r in routes if r)))


def parse_hardware_ports(text: str) -> list[tuple[str, str]]:
    """`networksetup -listallhardwareports`: (port name, device) pairs."""
    ports, port = [], None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Hardware Port":
            port = value.strip()
        elif key.strip() == "Device" and port is not None:
            ports.append((port, value.strip()))
            port = None
    return ports


def parse_network_services(text: str) -> list[str]:
    """`networksetup -listallnetworkservices`: the enabled ones (a leading * marks a disabled one)."""
    lines = [line.strip() for line in text.splitlines()[1:]]  # the first line explains the asterisk
    return [line for line in lines if line and not line.startswith("*")]


def _networksetup(*args: str, timeout: float = CHECK_TIMEOUT) -> str:
    return proc.run(["networksetup", *args], timeout).stdout


def cut_macos(timeout: float = TIMEOUT) -> str:
    """Wi-Fi off (any user may), then every service disabled (may need an administrator)."""
    done = 0
    for port, device in parse_hardware_ports(_networksetup("-listallhardwareports")):
        if port in ("Wi-Fi", "AirPort"):
            _networksetup("-setairportpower", device, "off", timeout=timeout)
            done += 1
    for service in parse_network_services(_networksetup("-listallnetworkservices")):
        try:
            _networksetup("-setnetworkserviceenabled", service, "off", timeout=timeout)
            done += 1
        except PlatformError as exc:
            log.warning("network: service %r not disabled: %s", service, exc)
    if not done:
        raise ToolFailed(T("The program {tool} failed (code {code}).", tool="networksetup", code=1), "nothing cut")
    return "networksetup"


# --- what the guide and the command line call ---

def read_state(prefix: Sequence[str] = ()) -> NetworkState:
    """Raises PlatformError when the state cannot be read."""
    if sys.platform == "win32":
        return read_windows()
    if sys.platform == "darwin":
        return read_macos()
    return read_linux(prefix)


def cut_network(timeout: float = TIMEOUT) -> CutResult:
    cut = {"win32": cut_windows, "darwin": cut_macos}.get(sys.platform, cut_linux)
    try:
        return CutResult(True, cut(timeout))
    except PlatformError as exc:
        log.warning("network: not cut by Vigie: %s", exc)
        return CutResult(False, cut.__name__, exc.reason)


def manual_steps(system: str | None = None) -> tuple[Text, ...]:
    """What the user does by hand, in every case: the cable, then Wi-Fi, then a shared phone."""
    system = system or sys.platform
    if system == "win32":
        wifi = T("Wi-Fi: click the network icon next to the clock, at the bottom right of the screen, "
                 "then click “Airplane mode”.")
    elif system == "darwin":
        wifi = T("Wi-Fi: click the Wi-Fi icon in the menu bar, at the top right of the screen, and turn Wi-Fi off.")
    else:
        wifi = T("Wi-Fi: click the network icon at the top right of the screen and turn Wi-Fi off "
                 "(or turn on airplane mode).")
    return (
        T("Cable: unplug the network cable from the computer."),
        wifi,
        T("Phone: stop any phone sharing its connection with this computer."),
    )
