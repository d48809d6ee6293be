"""Linux: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vigie.model import T
from vigie.platform import clamav, dbus, parsers, pcsc, proc, x11
from vigie.platform.base import (
    ENCRYPTION_UNKNOWN,
    AntivirusStatus,
    BackupRecord,
    DiskEncryption,
    FirewallProfile,
    FirewallStatus,
    IdleState,
    InstalledApps,
    LockPolicy,
    LockProof,
    LockRoute,
    LockUnproven,
    MountChange,
    NetworkState,
    NotSupported,
    OsVersion,
    PendingUpdate,
    PlatformError,
    RemoteAccess,
    RemoteAccessReport,
    ScanResult,
    SignInState,
    ToolFailed,
    ToolMissing,
    ToolTimeout,
    UpdateStatus,
    Volume,
    WifiState,
)
from vigie.platform.lock_proof import LOCK_PROOF_SECONDS, await_proof
from vigie.platform.lock_signals import LockSignals, XScreenSaverWatch
from vigie.platform.mount_events import MountinfoWatch

log = logging.getLogger(__name__)

# Desktop screen savers that lock on request and say whether they are active (KDE and others;
# GNOME; MATE), tried in this order.
SCREENSAVERS = (
    ("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver"),
    ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"),
    ("org.mate.ScreenSaver", "/org/mate/ScreenSaver", "org.mate.ScreenSaver"),
)
# The desktops' own lock commands where no screen saver answers on D-Bus (XFCE: xflock4 runs the locker
# XFCE is set to use; then each locker XFCE may have, and LightDM's), each tried where installed.
DESKTOP_LOCK_COMMANDS = (("xflock4",), ("light-locker-command", "-l"), ("xscreensaver-command", "-lock"),
                         ("dm-tool", "lock"))
# Generic requests, last: whether anything answers them cannot be known beforehand. (logind's
# Session.Lock, what `loginctl lock-session` sends, is asked over D-Bus before these.)
LOCK_COMMANDS = (("xdg-screensaver", "lock"),)
# X lockers that hold the keyboard grab while locked: `vigie check` can say in advance that their lock
# will be proven (any other program is tried too, and its lock proven the same way, or reported failed).
GRAB_LOCKERS = frozenset({"i3lock", "xsecurelock", "slock", "xlock", "xtrlock", "xscreensaver-command",
                          "betterlockscreen"})
LOGIND = ("org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager")
LOGIND_SESSION = "org.freedesktop.login1.Session"

# apt and dnf output is parsed, so it must not be translated. APT_CONFIG and the rest of the
# caller's environment are kept: an IT provider (or a test) may point apt at its own config.
_C_LOCALE = {"LC_ALL": "C.UTF-8", "LANGUAGE": ""}


def _tool_env() -> dict[str, str]:
    return {**os.environ, **_C_LOCALE}


def apt_simulate_upgrade(timeout: float) -> str:
    # Debug::NoLocking: a simulation needs no lock, so Vigie runs as the user and never waits on dpkg.
    argv = ["apt-get", "-s", "-q", "-o", "Debug::NoLocking=true", "upgrade"]
    return proc.run(argv, timeout, env=_tool_env()).stdout


def dnf_check_update(timeout: float) -> str:
    # -C: use the metadata the system already has; Vigie itself never goes to the network.
    return proc.run(["dnf", "-q", "-C", "check-update"], timeout, ok_codes=(0, 100), env=_tool_env()).stdout


def dnf_security_list(timeout: float) -> str:
    argv = ["dnf", "-q", "-C", "updateinfo", "list", "--available", "--security"]
    return proc.run(argv, timeout, env=_tool_env()).stdout


def screensaver_lock(service: str, path: str, interface: str) -> None:
    # Short: some (mate-screensaver) lock at once but answer late or never; GetActive then decides.
    dbus.call(service, path, interface, "Lock", timeout=0.5)


def screensaver_active(service: str, path: str, interface: str) -> bool:
    return bool(dbus.call(service, path, interface, "GetActive", timeout=1.0)[0])


def logind_session_path() -> str:
    """Our logind session's object path: XDG_SESSION_ID's session, else the one this process is in."""
    session_id = os.environ.get("XDG_SESSION_ID")
    if session_id:
        return str(dbus.call(*LOGIND, "GetSession", "s", (session_id,), timeout=1.0, bus="SYSTEM")[0])
    return str(dbus.call(*LOGIND, "GetSessionByPID", "u", (os.getpid(),), timeout=1.0, bus="SYSTEM")[0])


def logind_lock_session(path: str) -> None:
    """logind's Session.Lock (= `loginctl lock-session`): logind tells the desktop to lock."""
    dbus.call(LOGIND[0], path, LOGIND_SESSION, "Lock", timeout=1.0, bus="SYSTEM")


def logind_session_flag(path: str, name: str) -> bool:
    """A boolean property of a logind session: Active (in use on its seat), LockedHint (the desktop says locked)."""
    _signature, value = dbus.call(LOGIND[0], path, "org.freedesktop.DBus.Properties", "Get", "ss",
                                  (LOGIND_SESSION, name), timeout=1.0, bus="SYSTEM")[0]
    return bool(value)


def mutter_idle_ms() -> int:
    """GNOME (X11 and Wayland)."""
    return int(dbus.call("org.gnome.Mutter.IdleMonitor", "/org/gnome/Mutter/IdleMonitor/Core",
                         "org.gnome.Mutter.IdleMonitor", "GetIdletime", timeout=1.0)[0])


# org.freedesktop.ScreenSaver's GetSessionIdleTime has no agreed unit: KDE answers milliseconds (on X11;
# NotSupported on Wayland), light-locker seconds (50 after 50 s). Which program owns the name tells.
IDLE_IN_MILLISECONDS = frozenset({"ksmserver", "kwin_x11", "kwin_wayland"})
IDLE_IN_SECONDS = frozenset({"light-locker"})


def bus_name_program(name: str) -> str:
    """The program (/proc/PID/comm) that owns a session bus name."""
    pid = dbus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                    "GetConnectionUnixProcessID", "s", (name,), timeout=1.0)[0]
    return Path(f"/proc/{int(pid)}/comm").read_text(encoding="utf-8", errors="replace").strip()


def screensaver_idle(units: frozenset[str]) -> int:
    """GetSessionIdleTime as milliseconds, only from an owner whose unit is known to be in `units`."""
    owner = bus_name_program("org.freedesktop.ScreenSaver")
    if owner not in units:
        raise NotSupported(T("Vigie cannot tell how long this computer has been left idle on this desktop."),
                           f"org.freedesktop.ScreenSaver owned by {owner!r}: its idle time unit is not known here")
    value = int(dbus.call("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver",
                          "GetSessionIdleTime", timeout=1.0)[0])
    return value * 1000 if units is IDLE_IN_SECONDS else value


def kde_idle_ms() -> int:
    """KDE on X11: milliseconds, although the interface calls it seconds; Wayland answers NotSupported."""
    return screensaver_idle(IDLE_IN_MILLISECONDS)


def light_locker_idle_ms() -> int:
    """light-locker (Xubuntu, Debian XFCE): whole seconds. X11's own count, more precise, comes first."""
    return screensaver_idle(IDLE_IN_SECONDS)


def xscreensaver_state() -> str | None:
    """What xscreensaver's daemon says: "locked", "blanked", "non-blanked"; None when none runs here.
    Read where `xscreensaver-command -time` reads it, the root window's _SCREENSAVER_STATUS (the daemon
    deletes it when it exits): no process, so it may be asked often."""
    if not os.environ.get("DISPLAY"):
        return None
    from Xlib import X

    def query(connection) -> str | None:
        status = connection.screen().root.get_full_property(connection.intern_atom("_SCREENSAVER_STATUS"),
                                                            X.AnyPropertyType)
        if status is None or not len(status.value):
            return None
        first = int(status.value[0])
        return parsers.xscreensaver_status(connection.get_atom_name(first) if first else "")

    try:
        return x11.ask(query, 2.0, "vigie-xscreensaver")
    except Exception as exc:  # no X server, Xlib error, timeout: cannot tell
        log.debug("xscreensaver status: %s", exc)
        return None


def x11_idle() -> tuple[int, bool]:
    """Any X11 desktop, through the MIT-SCREEN-SAVER extension: (idle ms, screen saver on)."""
    if not os.environ.get("DISPLAY"):
        raise NotSupported(T("There is no graphical session here."), "no DISPLAY")
    from Xlib.ext import screensaver

    def query(connection) -> tuple[int, bool]:
        info = connection.screen().root.screensaver_query_info()
        return int(info.idle), info.state == screensaver.StateOn

    return x11.ask(query, 2.0, "vigie-x11-idle")


def x11_keyboard_grabbed() -> bool:
    """Another client holds the keyboard grab (i3lock, xsecurelock, xscreensaver...)."""
    if not os.environ.get("DISPLAY"):
        raise NotSupported(T("There is no graphical session here."), "no DISPLAY")
    from Xlib import X

    def probe(connection) -> bool:
        status = connection.screen().root.grab_keyboard(False, X.GrabModeAsync, X.GrabModeAsync, X.CurrentTime)
        if status == X.GrabSuccess:
            connection.ungrab_keyboard(X.CurrentTime)
            connection.sync()
        return status == X.AlreadyGrabbed

    return x11.ask(probe, 2.0, "vigie-x11-grab")


def video_devices_open() -> bool:
    """A process of this user holds a camera (/dev/video*) open."""
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            targets = [os.readlink(fd) for fd in fd_dir.iterdir()]
        except OSError:  # another user's process, or gone meanwhile
            continue
        if any(target.startswith("/dev/video") for target in targets):
            return True
    return False


def audio_recording() -> bool | None:
    """PulseAudio or PipeWire (pulse API): a source output is an application recording sound."""
    try:
        return bool(proc.run(["pactl", "list", "short", "source-outputs"], 2.0, env=_tool_env()).stdout.strip())
    except PlatformError:
        return None


def read_mountinfo() -> str:
    return Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="surrogateescape")


def block_is_removable(major_minor: str) -> bool:
    """The kernel's removable flag of the disk (a partition asks its parent), or udev's ID_BUS=usb:
    USB hard disks often say removable=0."""
    device = Path("/sys/dev/block") / major_minor
    for candidate in (device, device.resolve().parent):
        try:
            if (candidate / "removable").read_text().strip() == "1":
                return True
        except OSError:
            continue
    return udev_properties(major_minor).get("ID_BUS") == "usb"


def device_number(device: str) -> str | None:
    """MAJOR:MINOR of a block device node. mountinfo's own field is not it for btrfs (0:NN)."""
    try:
        number = os.stat(device).st_rdev
    except OSError:
        return None
    return f"{os.major(number)}:{os.minor(number)}" if number else None


def udev_properties(major_minor: str) -> dict[str, str]:
    try:
        return parsers.parse_udev_properties(Path(f"/run/udev/data/b{major_minor}").read_text(errors="replace"))
    except OSError:
        return {}


def medium_sequence(device: str) -> str | None:
    """The kernel's disk sequence number (Linux 5.15+), new for each medium a device holds (a stick
    plugged in, a card put in a reader, a loop device attached); a partition asks its disk."""
    block = Path("/sys/class/block") / Path(device).name
    for candidate in (block, block.resolve().parent):
        try:
            return (candidate / "diskseq").read_text().strip()
        except OSError:
            continue
    return None


def blkid_properties(device: str) -> dict[str, str]:
    """Read the label straight from the file system (when udev has not): needs read access to it."""
    try:
        return parsers.parse_udev_properties(proc.run(["blkid", "-p", "-o", "udev", device], 5.0).stdout)
    except PlatformError:
        return {}


def filesystem_size(mount_point: str, major_minor: str) -> int | None:
    """None once unmounted: the folder left there belongs to another file system, and its size
    is not the drive's."""
    try:
        device = os.stat(mount_point).st_dev
        stats = os.statvfs(mount_point)
    except OSError:
        return None  # vanished meanwhile: not an error
    if f"{os.major(device)}:{os.minor(device)}" != major_minor:
        return None
    return stats.f_blocks * stats.f_frsize


def unmount(volume_device: str, mount_point: str) -> None:
    if shutil.which("udisksctl"):
        try:
            proc.run(["udisksctl", "unmount", "--no-user-interaction", "-b", volume_device], 30)
            proc.run(["udisksctl", "power-off", "--no-user-interaction", "-b", volume_device], 30)
            return
        except PlatformError as exc:
            log.warning("udisksctl could not eject %s: %s", volume_device, exc)
    proc.run(["umount", mount_point], 30)


# The distributions' updater windows, the first installed one is opened (GNOME, Ubuntu, KDE).
UPDATERS = (("gnome-software", "--mode=updates"), ("update-manager",), ("plasma-discover", "--mode", "update"))


def linux_updater() -> list[str] | None:
    for program, *args in UPDATERS:
        found = shutil.which(program)
        if found:
            return [found, *args]
    return None


def notification_server_present() -> bool:
    try:
        return bool(dbus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "NameHasOwner", "s", ("org.freedesktop.Notifications",), timeout=1.0)[0])
    except PlatformError:
        return False


class Locker:
    """A locker program Vigie started (i3lock -n, xsecurelock...): it may stay in the foreground while it
    holds the screen, or fork and exit 0. Reaped by a thread of its own, so nobody waits on it;
    `on_exit` is called when it ends after its lock was proven (the user unlocked)."""

    def __init__(self, argv: Sequence[str], on_exit: Callable[[], None]) -> None:
        try:
            # Its own session: the lock must survive whatever happens to Vigie afterwards.
            self.process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            raise ToolFailed(T("The screen locker {tool} could not be started.", tool=argv[0]), str(exc)) from exc
        self.tool = argv[0]
        self.proven = False
        self.output = ""
        self._ended = threading.Event()
        threading.Thread(target=self._reap, args=(on_exit,), name="vigie-locker-reaper", daemon=True).start()

    def _reap(self, on_exit: Callable[[], None]) -> None:
        out, _ = self.process.communicate()  # drains its output and reaps it: no zombie
        self.output = (out or b"").decode(errors="replace").strip()[-300:]
        self._ended.set()
        if self.proven:
            on_exit()

    @property
    def running(self) -> bool:
        return not self._ended.is_set()

    def failed(self) -> bool:
        """It ended with an error (an exit 0 is a forking locker: its lock may still come)."""
        return self._ended.is_set() and self.process.returncode != 0

    def failure(self) -> ToolFailed:
        code = self.process.returncode
        return ToolFailed(T("The screen locker {tool} failed (code {code}).", tool=self.tool, code=code), self.output)


def locks_at_the_greeter(service: str) -> bool:
    """light-locker owns the screen saver name but does not lock itself: LightDM's greeter does."""
    try:
        return bus_name_program(service) == "light-locker"
    except (PlatformError, OSError, ValueError):
        return False


def _saver_proof(service: str, path: str, interface: str) -> str | None:
    try:
        return f"{service} GetActive" if screensaver_active(service, path, interface) else None
    except PlatformError:
        return None


class _LockAttempts:
    """What each way of locking did, for the log and for the one error the user reads."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.started: list[str] = []  # started but never seen locked
        self.configured_error: PlatformError | None = None

    def failed(self, how: str, exc: PlatformError, *, configured: bool = False) -> None:
        self.lines.append(f"{how}: {exc.log_detail or exc}")
        if configured:
            self.configured_error = exc

    def unproven(self, how: str, budget: float, *, configured: bool = False) -> None:
        self.lines.append(f"{how}: started, not seen locked within {budget:g} s")
        self.started.append(how)
        if configured:
            self.configured_error = LockUnproven(
                T("The screen locker {tool} ran, but the screen did not lock.", tool=how), self.lines[-1])

    def error(self) -> PlatformError:
        detail = "; ".join(self.lines)
        log.warning("no lock proven: %s", detail)
        if self.configured_error is not None:  # what the IT provider chose comes first
            return type(self.configured_error)(self.configured_error.reason, detail)
        if self.started:
            return LockUnproven(T("The desktop was asked to lock the screen, but the screen did not lock."), detail)
        return NotSupported(T("No way to lock the screen was found on this computer."), detail)


NETWORK_TIMEOUT = 30.0  # s; nmcli may take a few seconds to bring everything down
NETWORK_CHECK_TIMEOUT = 10.0
PROBE_TIMEOUT = 3.0  # s; "is NetworkManager / ConnMan running here?": the guide waits for the answer
NO_WAY_TO_CUT = T("Vigie has no way to cut the network on this computer.")
CUT_REFUSED = T("The system refused to cut the network.")


def linux_ip_json(args: Sequence[str], prefix: Sequence[str] = (), timeout: float = NETWORK_CHECK_TIMEOUT) -> str:
    """`ip -j ARGS`; prefix runs it elsewhere (the tests: `ip netns exec NS`)."""
    return proc.run([*prefix, "ip", "-j", *args], timeout).stdout


def sysfs_net_facts(interface: str, root: Path = Path("/sys/class/net")) -> dict[str, str]:
    """What the kernel says of an interface beyond `ip`: wireless or not, its device type, its driver."""
    folder = root / interface
    facts: dict[str, str] = {}
    if (folder / "wireless").exists() or (folder / "phy80211").exists():
        facts["wireless"] = "1"
    try:
        for line in (folder / "uevent").read_text().splitlines():
            key, _, value = line.partition("=")
            if key == "DEVTYPE":
                facts["devtype"] = value
    except OSError:
        pass
    with contextlib.suppress(OSError):
        facts["driver"] = os.path.basename(os.readlink(folder / "device" / "driver"))
    return facts


def read_network(prefix: Sequence[str] = ()) -> NetworkState:
    """`ip` for addresses and routes (-d: the link kind, veth, tun…); sysfs for Wi-Fi and drivers, except
    under a prefix (another namespace: this process's /sys is not that namespace's)."""
    links = parsers.parse_ip_json(linux_ip_json(["-d", "addr", "show"], prefix))
    routes = parsers.parse_ip_json(linux_ip_json(["-4", "route", "show"], prefix))
    routes += parsers.parse_ip_json(linux_ip_json(["-6", "route", "show"], prefix))
    facts = {} if prefix else {str(link.get("ifname")): sysfs_net_facts(str(link.get("ifname"))) for link in links
                               if link.get("ifname")}
    return parsers.assess_linux(links, routes, facts)


# --- cutting: every way the system may offer, each one OS call in a small function ---

def nmcli_running(timeout: float = PROBE_TIMEOUT) -> bool:
    if shutil.which("nmcli") is None:
        return False
    try:
        return proc.run(["nmcli", "-t", "-f", "RUNNING", "general"], timeout, env=_tool_env()).stdout.strip() == \
            "running"
    except PlatformError as exc:
        log.info("network: NetworkManager not usable: %s", exc.log_detail or exc)
        return False


def nmcli_networking_off(timeout: float) -> str:
    proc.run(["nmcli", "networking", "off"], timeout, env=_tool_env())
    return "nmcli networking off"


def connman_running(timeout: float = PROBE_TIMEOUT) -> bool:
    if shutil.which("connmanctl") is None:
        return False
    try:
        proc.run(["connmanctl", "state"], timeout, env=_tool_env())
    except PlatformError as exc:
        log.info("network: ConnMan not usable: %s", exc.log_detail or exc)
        return False
    return True


def connman_offline(timeout: float) -> str:
    proc.run(["connmanctl", "enable", "offline"], timeout, env=_tool_env())
    return "connmanctl enable offline"


def own_status() -> str:
    return Path("/proc/self/status").read_text()


def may_set_links_down() -> bool:
    """`ip link set … down` needs CAP_NET_ADMIN (root has it, unless it was dropped)."""
    if shutil.which("ip") is None:
        return False
    try:
        return parsers.has_capability(own_status(), parsers.CAP_NET_ADMIN)
    except OSError:
        return False


def ip_link_down(interface: str, timeout: float) -> str:
    proc.run(["ip", "link", "set", "dev", interface, "down"], timeout)
    return f"ip link set dev {interface} down"


def rfkill_usable() -> bool:
    """rfkill switches radios off (Wi-Fi, mobile); /dev/rfkill is writable by the logged-in user on
    most desktops (logind gives it), never otherwise."""
    return shutil.which("rfkill") is not None and os.access("/dev/rfkill", os.W_OK)


def rfkill_block(kind: str, timeout: float) -> str:
    proc.run(["rfkill", "block", kind], timeout)
    return f"rfkill block {kind}"


@dataclass(frozen=True)
class CutMethod:
    name: str
    run: Callable[[NetworkState, float], list[str]]  # the state read just before; returns what it did


def _links_down(state: NetworkState, timeout: float) -> list[str]:
    return [ip_link_down(interface, timeout) for interface in state.interfaces]


def cut_methods() -> list[CutMethod]:
    """In the order tried: the network managers first (they would bring a link back up), then the
    links themselves, then the radios."""
    found = []
    if nmcli_running():
        found.append(CutMethod("nmcli", lambda _state, timeout: [nmcli_networking_off(timeout)]))
    if connman_running():
        found.append(CutMethod("connman", lambda _state, timeout: [connman_offline(timeout)]))
    if may_set_links_down():
        found.append(CutMethod("ip", _links_down))
    if rfkill_usable():
        found.append(CutMethod("rfkill", lambda _state, timeout: [rfkill_block("wifi", timeout),
                                                                  rfkill_block("wwan", timeout)]))
    return found


def cut_linux(timeout: float = NETWORK_TIMEOUT, methods: Sequence[CutMethod] | None = None,
              read: Callable[[], NetworkState] = read_network) -> str:
    """Each available way in turn until the network reads as cut; returns what was done (the caller
    checks the state again: a method may succeed and leave a connection up). NotSupported when there is
    no way at all; ToolFailed when every way was refused."""
    methods = cut_methods() if methods is None else methods
    if not methods:
        raise NotSupported(NO_WAY_TO_CUT, "no nmcli, connman, CAP_NET_ADMIN or rfkill")
    done: list[str] = []
    refused: list[str] = []
    for method in methods:
        try:
            done += method.run(read(), timeout)
        except PlatformError as exc:
            log.warning("network: %s did not cut: %s", method.name, exc.log_detail or exc)
            refused.append(f"{method.name}: {exc.log_detail or exc}")
            continue
        try:
            if read().cut:
                break
        except PlatformError:  # cannot tell: the next way costs nothing
            continue
    if not done:
        raise ToolFailed(CUT_REFUSED, "; ".join(refused))
    log.info("network: cut with %s", ", ".join(done))
    return ", ".join(done)


class LinuxPlatform:
    name = "linux"
    lock_shortcut = T("Super + L (or Ctrl + Alt + L)")  # named in advice to lock by hand

    def __init__(self) -> None:
        self._locker: Locker | None = None
        self._signals: LockSignals | None = None  # started with the first on_unlock listener
        self._xscreensaver_watch: XScreenSaverWatch | None = None
        self._logind_path: str | None = None  # our session's object path, once found
        self._logind_error = ""
        self._idle_source: str | None = None  # the first source that answered is kept
        self._unlock_listeners: list[Callable[[], None]] = []
        self._mounts = MountinfoWatch()
        self._identified: dict[tuple[str, str, str, str], Volume] = {}  # mountinfo row → its volume
        self._probed: dict[tuple[str, str], dict[str, str]] = {}  # (device, medium) → what blkid read

    def pending_updates(self, timeout: float) -> UpdateStatus:
        if shutil.which("apt-get"):
            updates = parsers.parse_apt_simulate(apt_simulate_upgrade(timeout))
            return UpdateStatus("apt", tuple(updates))
        if shutil.which("dnf"):
            return self._dnf_pending(timeout)
        raise NotSupported(T("No supported package manager (apt or dnf) was found."))

    def lock_screen(self, locker_command: Sequence[str] = (), budget: float = LOCK_PROOF_SECONDS) -> LockProof:
        """The configured locker first (the IT provider chose it), then the desktop's screen saver, the
        desktop's own lock commands, logind, xdg-screensaver; each has `budget` seconds to show the
        session locked before the next one is tried. Runs on the engine's lock thread, never the engine's."""
        tried = _LockAttempts()
        if locker_command:
            proof = self._run_locker(locker_command, budget, tried)
            if proof:
                return proof
        for service, path, interface in SCREENSAVERS:
            if self._saver_lock(service, path, interface, tried):
                waited = budget + (GREETER_SWITCH_SECONDS if locks_at_the_greeter(service) else 0.0)
                proof = await_proof(lambda s=(service, path, interface): _saver_proof(*s) or self._greeter_proof(),
                                    waited)
                if proof:
                    return LockProof(service, proof)
                tried.unproven(service, waited)
        for argv in (*installed(DESKTOP_LOCK_COMMANDS), "logind", *installed(LOCK_COMMANDS)):
            proof = self._request_lock(argv, budget, tried)
            if proof:
                return proof
        raise tried.error()

    def _request_lock(self, argv: Sequence[str] | str, budget: float, tried: _LockAttempts) -> LockProof | None:
        """A lock command (or logind's Session.Lock) that returns at once; the lock itself is then looked for."""
        how = "logind Session.Lock" if argv == "logind" else argv[0]
        try:
            if argv == "logind":
                logind_lock_session(self._session_path())
            else:
                proc.run(list(argv), 5)
        except PlatformError as exc:
            tried.failed(how, exc)
            return None
        proof = await_proof(self.lock_proof, budget)
        if not proof:
            tried.unproven(how, budget)
            return None
        if proof == XSCREENSAVER_PROOF:
            self._watch_xscreensaver()
        return LockProof(how, proof)

    def _watch_xscreensaver(self) -> None:
        """xscreensaver holds this lock and says nothing on D-Bus: its -watch says when it ends."""
        if self._xscreensaver_watch is not None:
            self._xscreensaver_watch.stop()
        try:
            self._xscreensaver_watch = XScreenSaverWatch(self._unlocked)
        except OSError as exc:
            log.info("xscreensaver-command -watch: %s (the idle watch polls instead)", exc)

    @staticmethod
    def _saver_lock(service: str, path: str, interface: str, tried: _LockAttempts) -> bool:
        """Ask this screen saver to lock; False when it is not there (or already said no)."""
        try:
            if screensaver_active(service, path, interface):
                return True  # already locked: the proof follows at once
            screensaver_lock(service, path, interface)
        except ToolTimeout:
            pass  # asked; it may answer only once locked, or never: GetActive decides
        except PlatformError as exc:
            tried.failed(service, exc)
            return False
        return True

    def _run_locker(self, argv: Sequence[str], budget: float, tried: _LockAttempts) -> LockProof | None:
        try:
            locker = Locker(argv, self._unlocked)
        except ToolFailed as exc:
            tried.failed(argv[0], exc, configured=True)
            return None
        self._locker = locker
        # The keyboard grab counts here whatever a screen saver says: Vigie started this locker itself.
        proof = await_proof(lambda: self.lock_proof(grab_counts=True), budget, gave_up=locker.failed)
        if proof:
            locker.proven = True
            return LockProof(argv[0], proof)
        if locker.failed():
            tried.failed(argv[0], locker.failure(), configured=True)
        else:  # exited 0 or still running, and nothing locked: left alone (never kill what may be a lock)
            tried.unproven(argv[0], budget, configured=True)
        return None

    def lock_proof(self, grab_counts: bool = False) -> str | None:
        """What shows this session locked now: a screen saver's GetActive, logind's LockedHint,
        xscreensaver's own word, or the keyboard held by another client (every X locker grabs it).
        The grab counts only where no screen saver can say (or for Vigie's own locker): a shell's
        menu or overview holds it too. None: nothing does."""
        answered = False
        for service, path, interface in SCREENSAVERS:
            try:
                if screensaver_active(service, path, interface):
                    return f"{service} GetActive"
                answered = True
            except PlatformError:
                continue
        if self._logind_flag("LockedHint"):
            return "logind LockedHint"
        if self._greeter_proof():
            return GREETER_PROOF
        xscreensaver = xscreensaver_state()
        if xscreensaver == "locked":
            return XSCREENSAVER_PROOF
        if (answered or xscreensaver is not None) and not grab_counts:
            return None
        return "keyboard grab" if self.input_grabbed() else None

    def lock_route(self, locker_command: Sequence[str] = ()) -> LockRoute:
        """The way lock_screen() tries first, and how its lock will be seen (None: it cannot be known)."""
        if locker_command:
            tool = locker_command[0]
            if shutil.which(tool) is None:
                raise ToolMissing(T("The screen locker {tool} is not installed.", tool=tool))
            known = Path(tool).name in GRAB_LOCKERS and bool(os.environ.get("DISPLAY"))
            return LockRoute(tool, "keyboard grab" if known else None)
        for service, path, interface in SCREENSAVERS:
            try:
                screensaver_active(service, path, interface)
            except PlatformError:
                continue
            return LockRoute(service, GREETER_PROOF if locks_at_the_greeter(service) else f"{service} GetActive")
        if xscreensaver_state() is not None:  # its daemon runs: xflock4 or xscreensaver-command lock, it says so
            return LockRoute(DESKTOP_LOCK_COMMANDS[0][0] if shutil.which("xflock4") else "xscreensaver-command",
                             XSCREENSAVER_PROOF)
        for argv in (*installed(DESKTOP_LOCK_COMMANDS), *installed(LOCK_COMMANDS)):
            return LockRoute(argv[0], None)
        if self._logind_flag("LockedHint") is not None:
            return LockRoute("logind Session.Lock", None)
        raise NotSupported(T("No way to lock the screen was found on this computer."))

    def session_active(self) -> bool | None:
        active = self._logind_flag("Active")
        if active is None:
            log.info("logind: cannot tell whether this session is the one in use (%s)", self._logind_error)
        return active

    def _greeter_proof(self) -> str | None:
        return GREETER_PROOF if self._logind_flag("Active") is False else None

    def _logind_flag(self, name: str) -> bool | None:
        """A flag of our logind session; None when logind cannot be asked (no system bus, no session)."""
        try:
            return logind_session_flag(self._session_path(), name)
        except PlatformError as exc:
            self._logind_error = f"{exc}: {exc.log_detail}"
            return None

    def _session_path(self) -> str:
        if self._logind_path is None:
            self._logind_path = logind_session_path()
        return self._logind_path

    def input_grabbed(self) -> bool | None:
        try:
            return x11_keyboard_grabbed()
        except Exception as exc:  # no X server, Xlib error, timeout: cannot tell
            log.debug("keyboard grab probe: %s", exc)
            return None

    def on_unlock(self, callback: Callable[[], None]) -> None:
        """Vigie's own locker exiting, a screen saver's ActiveChanged(false), logind's LockedHint
        turning false, xscreensaver's UNBLANK after its lock: each calls `callback` at once."""
        self._unlock_listeners.append(callback)
        if self._signals is None:
            self._signals = LockSignals(SCREENSAVERS, self._session_path, self._lock_changed)
            self._signals.start()

    def _lock_changed(self, locked: bool, source: str) -> None:
        log.info("lock %s: %s", "began" if locked else "ended", source)
        if not locked:
            self._unlocked()

    def _unlocked(self) -> None:
        for callback in self._unlock_listeners:
            callback()

    def screen_locked(self) -> bool | None:
        """Vigie's own locker, else the first screen saver that answers, else xscreensaver's daemon,
        else logind's LockedHint when it says locked; whatever they say, locked while the login screen
        (or another session) is in front of this one. None: nothing here can say."""
        locker = self._locker
        if locker is not None and locker.proven and locker.running:
            return True
        said = self._desktop_says_locked()
        if said is not True and self._greeter_proof():
            return True  # light-locker's lock: its own GetActive stays false
        return said

    def _desktop_says_locked(self) -> bool | None:
        for service, path, interface in SCREENSAVERS:
            try:
                return screensaver_active(service, path, interface)
            except PlatformError:
                continue
        xscreensaver = xscreensaver_state()
        if xscreensaver is not None:
            return xscreensaver == "locked"
        return True if self._logind_flag("LockedHint") else None

    def idle_state(self) -> IdleState:
        sources = [self._idle_source] if self._idle_source else list(IDLE_SOURCES)
        failures = []
        for name in sources:
            try:
                milliseconds, saver_on = IDLE_SOURCES[name]()
            except Exception as exc:  # each source fails its own way: D-Bus error, Xlib error, timeout
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            self._idle_source = name
            return IdleState(milliseconds / 1000, saver_on, name)
        self._idle_source = None
        raise NotSupported(T("Vigie cannot tell how long this computer has been left idle on this desktop."),
                           "; ".join(failures))

    def media_in_use(self) -> bool | None:
        if video_devices_open():
            return True
        return audio_recording()

    def mounted_volumes(self) -> list[Volume]:
        """A mount already listed by the last call keeps its identity: only new ones are identified
        (a blkid process each where udev has no record), so a look stays quick enough to see
        drives plugged in and out in quick succession."""
        volumes, seen, identified = [], set(), {}
        for mount_id, row in parsers.parse_mounts(read_mountinfo()):
            major_minor, mount_point, fs_type, source = row
            if not source.startswith("/dev/") or source in seen:
                continue  # not a block device, or a bind mount of one already listed
            seen.add(source)
            volume = self._identified.get(row) or self._volume(major_minor, source, mount_point, fs_type)
            identified[row] = volume
            volumes.append(dataclasses.replace(volume, mount_id=mount_id))
        self._identified = identified  # one assignment: calls from other threads see either table
        return volumes

    def _volume(self, major_minor: str, device: str, mount_point: str, fs_type: str) -> Volume:
        block = device_number(device) or major_minor
        removable = block_is_removable(block)
        label = uuid = ""
        if removable:  # identity only matters for removable media; blkid costs a process
            properties = udev_properties(block)
            if "ID_FS_UUID" not in properties:
                properties = self._blkid(device)
            label, uuid, _ = parsers.volume_identity(properties)
        return Volume(device, mount_point, fs_type, label, uuid, filesystem_size(mount_point, major_minor), removable)

    def _blkid(self, device: str) -> dict[str, str]:
        """blkid once per medium: the same stick mounted again is not probed again (a relabelling
        without unplugging shows when it is plugged in again)."""
        medium = medium_sequence(device)
        if medium is None:
            return blkid_properties(device)
        if (device, medium) not in self._probed:
            self._probed[(device, medium)] = blkid_properties(device)
        return self._probed[(device, medium)]

    def wait_for_mount_change(self, timeout: float | None) -> MountChange:
        return self._mounts.wait(timeout)

    def eject(self, volume: Volume) -> None:
        unmount(volume.device, volume.mount_point)

    def updater_command(self) -> list[str] | None:
        return linux_updater()

    def scanner_available(self) -> bool:
        return clamav.clamscan_available()

    def scan_volume(self, volume: Volume, timeout: float) -> ScanResult:
        return clamav.clamscan(volume, timeout)

    @staticmethod
    def _dnf_pending(timeout: float) -> UpdateStatus:
        rows = parsers.parse_dnf_check_update(dnf_check_update(timeout))
        security = parsers.parse_dnf_security_names(dnf_security_list(timeout)) if rows else set()
        updates = tuple(PendingUpdate(name, version, name in security) for name, version in rows)
        return UpdateStatus("dnf", updates)

    def system_backups(self, timeout: float) -> list[BackupRecord]:
        record = deja_dup_backup(timeout)
        return [record] if record is not None else []

    def network_state(self) -> NetworkState:
        return read_network()

    def can_cut_network(self) -> bool:
        return bool(cut_methods())

    def cut_network(self, timeout: float) -> str:
        return cut_linux(timeout)

    def smartcards(self, timeout: float) -> list[tuple[str, str]] | None:
        return pcsc.present_cards(timeout=timeout)  # PC/SC is the same API on every OS

    def lock_policy(self) -> LockPolicy:
        desktop = os.environ.get("XDG_CURRENT_DESKTOP", "")
        family = desktop_family(desktop)
        if "xfce" in desktop.lower():
            return readable_lock_policy(xfce_lock_policy)
        if family is None:
            raise NotSupported(T("This desktop's automatic lock setting cannot be read."),
                               f"XDG_CURRENT_DESKTOP={desktop!r}")
        return readable_lock_policy(gnome_lock_policy if family == "gnome" else kde_lock_policy)

    # --- Access checks (issue 20) ---------------------------------------------------------------
    def remote_access(self) -> RemoteAccessReport:
        return linux_remote_access()

    def sign_in(self) -> SignInState:
        return linux_sign_in()

    def wifi(self) -> WifiState:
        return linux_wifi()

    def installed_apps(self) -> InstalledApps:
        return linux_installed_apps()
    # Protection checks (issue 20)
    def disk_encryption(self, folder: str | None, timeout: float) -> DiskEncryption:
        return linux_disk_encryption(folder or "/", timeout)

    def antivirus_status(self, timeout: float) -> AntivirusStatus:
        return clamav.signature_status()

    def firewall_status(self, timeout: float) -> FirewallStatus:
        return linux_firewall(timeout)

    def os_version(self) -> OsVersion:
        return parsers.os_version_from_os_release(parsers.parse_os_release(os_release_text()))


# Idle sources, most precise first; each answers (milliseconds idle, screen saver on).
IDLE_SOURCES = {
    "gnome": lambda: (mutter_idle_ms(), False),
    "kde": lambda: (kde_idle_ms(), False),
    "x11": x11_idle,
    "light-locker": lambda: (light_locker_idle_ms(), False),
}
XSCREENSAVER_PROOF = "xscreensaver says locked"
# Another session in front of ours on the seat (logind's Active false): the display manager's login
# screen, where light-locker and `dm-tool lock` lock (LightDM's greeter), or another user's session.
GREETER_PROOF = "logind: the login screen is in front of this session"
# light-locker blanks at once and asks LightDM for its greeter 1 s later (its own wait for the switch of
# virtual terminal); the switch itself takes a moment more.
GREETER_SWITCH_SECONDS = 2.0


def installed(commands: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return [argv for argv in commands if shutil.which(argv[0])]


# --- the desktop's own automatic lock (read for the lock_policy check) ------------------------


def desktop_family(xdg_current_desktop: str) -> str | None:
    """"gnome" (GNOME, Ubuntu, Unity), "kde", or None for a desktop whose setting Vigie cannot read."""
    name = xdg_current_desktop.lower()
    if any(word in name for word in ("gnome", "unity", "ubuntu")):
        return "gnome"
    return "kde" if "kde" in name else None


def gsettings_get(schema: str, key: str) -> str:
    return proc.run(["gsettings", "get", schema, key], 5, env=_tool_env()).stdout


def kscreenlockerrc_text() -> str | None:
    """The user's KDE screen locker settings; None when the file does not exist (KDE's defaults)."""
    config_home = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(config_home) if os.path.isabs(config_home) else Path.home() / ".config"
    try:
        return (base / "kscreenlockerrc").read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def gnome_lock_after(idle_delay: int, lock_enabled: bool, lock_delay: int, lock_disabled: bool = False) -> int | None:
    """GNOME blanks the screen after idle-delay seconds (0 = never) and locks lock-delay seconds
    later, unless locking is off (lock-enabled) or forbidden (lockdown disable-lock-screen)."""
    if not lock_enabled or lock_disabled or idle_delay == 0:
        return None
    return idle_delay + lock_delay


def kde_lock_after(autolock: bool, timeout_minutes: int, grace_seconds: int) -> int | None:
    """KDE locks after Timeout minutes; for LockGrace seconds more it still opens without a password."""
    if not autolock or timeout_minutes <= 0:
        return None
    return timeout_minutes * 60 + max(grace_seconds, 0)


def gnome_lock_policy() -> LockPolicy:
    idle = parsers.parse_gsettings_uint(gsettings_get("org.gnome.desktop.session", "idle-delay"))
    enabled = parsers.parse_gsettings_bool(gsettings_get("org.gnome.desktop.screensaver", "lock-enabled"))
    delay = parsers.parse_gsettings_uint(gsettings_get("org.gnome.desktop.screensaver", "lock-delay"))
    disabled = parsers.parse_gsettings_bool(gsettings_get("org.gnome.desktop.lockdown", "disable-lock-screen"))
    detail = (f"idle-delay={idle} lock-enabled={str(enabled).lower()} lock-delay={delay} "
              f"disable-lock-screen={str(disabled).lower()}")
    return LockPolicy(gnome_lock_after(idle, enabled, delay, disabled), "gnome", detail)


def kde_lock_policy() -> LockPolicy:
    text = kscreenlockerrc_text()
    autolock, timeout, grace = parsers.parse_kscreenlockerrc(text)
    detail = f"Autolock={str(autolock).lower()} Timeout={timeout} LockGrace={grace}"
    if text is None:
        detail += " (no kscreenlockerrc: KDE defaults)"
    return LockPolicy(kde_lock_after(autolock, timeout, grace), "kde", detail)


def user_programs() -> set[str]:
    """The program names (/proc/PID/comm) of this user's processes."""
    names, uid = set(), os.getuid()
    for status in Path("/proc").glob("[0-9]*"):
        try:
            if status.stat().st_uid == uid:
                names.add((status / "comm").read_text(encoding="utf-8", errors="replace").strip())
        except OSError:  # gone meanwhile
            continue
    return names


def x11_saver_timeout() -> int:
    """The X server's own screen saver timeout in seconds (0: off); XFCE's power manager sets it."""
    if not os.environ.get("DISPLAY"):
        raise NotSupported(T("There is no graphical session here."), "no DISPLAY")
    return x11.ask(lambda connection: int(connection.get_screen_saver().timeout), 2.0, "vigie-x11-saver")


def xfconf_get(channel: str, prop: str, default: str) -> str:
    """One XFCE setting; `default` when it was never changed (xfconf-query then exits 1)."""
    try:
        return proc.run(["xfconf-query", "-c", channel, "-p", prop], 5, env=_tool_env()).stdout.strip()
    except ToolFailed:
        return default


XSCREENSAVER_DEFAULTS = Path("/etc/X11/app-defaults/XScreenSaver")


def xscreensaver_lock_policy() -> LockPolicy:
    """~/.xscreensaver, else the app-defaults: locks `lockTimeout` after blanking at `timeout`, if `lock`."""
    own = Path.home() / ".xscreensaver"
    source = own if own.exists() else XSCREENSAVER_DEFAULTS
    settings = parsers.parse_xscreensaver_settings(source.read_text(encoding="utf-8", errors="replace"))
    lock = settings.get("lock", "False").lower() == "true"
    timeout = parsers.xscreensaver_duration(settings.get("timeout", "0:10:00"))
    delay = parsers.xscreensaver_duration(settings.get("lockTimeout", "0:00:00"))
    detail = f"{source.name}: lock={str(lock).lower()} timeout={timeout}s lockTimeout={delay}s"
    return LockPolicy(timeout + delay if lock and timeout > 0 else None, "xscreensaver", detail)


def light_locker_policy() -> LockPolicy:
    """light-locker locks `lock-after-screensaver` s after the X screen saver starts (its timeout, set by
    XFCE's power manager); late-locking: when it ends, which still asks the password at the return."""
    timeout = x11_saver_timeout()
    delay = parsers.parse_gsettings_uint(gsettings_get("apps.light-locker", "lock-after-screensaver"))
    late = parsers.parse_gsettings_bool(gsettings_get("apps.light-locker", "late-locking"))
    detail = f"X screen saver timeout={timeout}s lock-after-screensaver={delay}s late-locking={str(late).lower()}"
    return LockPolicy((timeout if late else timeout + delay) if timeout > 0 else None, "light-locker", detail)


def xfce4_screensaver_policy() -> LockPolicy:
    channel = "xfce4-screensaver"
    saver = xfconf_get(channel, "/saver/enabled", "true") == "true"
    idle = int(xfconf_get(channel, "/saver/idle-activation/delay", "5")) * 60
    lock = xfconf_get(channel, "/lock/enabled", "true") == "true"
    with_saver = xfconf_get(channel, "/lock/saver-activation/enabled", "true") == "true"
    delay = int(xfconf_get(channel, "/lock/saver-activation/delay", "0")) * 60
    detail = (f"saver={str(saver).lower()} idle-activation={idle}s lock={str(lock).lower()} "
              f"saver-activation={str(with_saver).lower()} delay={delay}s")
    locks = saver and lock and with_saver and idle > 0
    return LockPolicy(idle + delay if locks else None, "xfce4-screensaver", detail)


def xfce_lock_policy() -> LockPolicy:
    """XFCE locks through whichever locker runs in the session."""
    running = user_programs()
    if "xfce4-screensav" in running:  # comm is cut at 15 characters
        return xfce4_screensaver_policy()
    if "light-locker" in running:
        return light_locker_policy()
    if xscreensaver_state() is not None:  # its daemon on this display says what it shows
        return xscreensaver_lock_policy()
    return LockPolicy(None, "xfce", "no screen locker runs (xfce4-screensaver, light-locker, xscreensaver)")


def readable_lock_policy(read: Callable[[], LockPolicy]) -> LockPolicy:
    """A setting that cannot be parsed or read becomes ToolFailed, with what was seen for the log."""
    try:
        return read()
    except (ValueError, OSError) as exc:
        raise ToolFailed(T("The automatic lock setting could not be read."), str(exc)) from exc


# --- Déjà Dup (the backup tool of GNOME, Ubuntu's "Backups") ------------------------------------

# Flathub's Déjà Dup has no dconf access: GLib keeps its settings in the sandbox, in a key file.
DEJA_DUP_FLATPAK_KEYFILE = ".var/app/org.gnome.DejaDup/config/glib-2.0/settings/keyfile"


def gsettings_list_recursively(schema: str, timeout: float) -> str:
    return proc.run(["gsettings", "list-recursively", schema], timeout, env=_tool_env()).stdout


def gsettings_schemas(timeout: float) -> set[str]:
    """The installed schemas; none when gsettings cannot list any ("No schemas installed", code 1)."""
    try:
        return set(proc.run(["gsettings", "list-schemas"], timeout, env=_tool_env()).stdout.split())
    except ToolFailed:
        return set()


def deja_dup_flatpak_keyfile() -> str | None:
    try:
        return (Path.home() / DEJA_DUP_FLATPAK_KEYFILE).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def deja_dup_host_settings(timeout: float) -> dict[str, str] | None:
    """Déjà Dup's settings through gsettings (one process for all keys and child schemas); None
    when its schema is not installed. Without gsettings at all, None too: Vigie cannot even tell
    whether Déjà Dup is there, and a warning about a tool that may not exist would be noise (the
    backup check already says when no backup at all is known)."""
    try:
        stdout = gsettings_list_recursively(parsers.DEJA_DUP_SCHEMA, timeout)
    except ToolMissing:
        log.info("gsettings is not installed: Déjà Dup not looked for")
        return None
    except ToolFailed:
        if parsers.DEJA_DUP_SCHEMA not in gsettings_schemas(timeout):
            return None  # "No such schema": Déjà Dup is not installed
        raise
    return parsers.deja_dup_settings_from_gsettings(stdout)


def deja_dup_flatpak_settings(timeout: float) -> dict[str, str] | None:
    text = deja_dup_flatpak_keyfile()
    return None if text is None else parsers.deja_dup_settings_from_keyfile(text)


def deja_dup_backup(timeout: float) -> BackupRecord | None:
    """The installed Déjà Dup (package or Flatpak) that backed up last; None when neither was used."""
    records = []
    for read in (deja_dup_host_settings, deja_dup_flatpak_settings):
        try:
            settings = read(timeout)
            record = None if settings is None else parsers.deja_dup_record(settings, hostname=socket.gethostname())
        except (PlatformError, OSError, ValueError) as exc:
            log.warning("Déjà Dup settings unreadable (%s): %s", read.__name__, exc)
            record = BackupRecord("deja_dup", None, error=T("The Déjà Dup settings could not be read."))
        if record is not None:
            records.append(record)
    return max(records, key=_backup_rank, default=None)


def _backup_rank(record: BackupRecord) -> tuple[int, float]:
    """A dated backup beats "set up, never backed up", which beats "unreadable"."""
    if record.last_backup is not None:
        return 2, record.last_backup.timestamp()
    return (0 if record.error else 1), 0.0


# --- Access checks (issue 20) ---------------------------------------------------------------------

# Remote-control services that accept connections through their makers' relays, by process name.
# No configuration of theirs is read (no genuine sample of it was available): their service
# running is what counts.
REMOTE_SERVICES = {"anydesk": "anydesk", "teamviewerd": "teamviewer"}


def _process_name(pid: int | None) -> str | None:
    import psutil

    if not pid:
        return None  # another user's socket: /proc does not tell this user whose it is
    try:
        return psutil.Process(pid).name()
    except psutil.Error:
        return None


def listening_sockets() -> list[tuple[str, int, str | None]]:
    """(address, port, program) of the TCP sockets listening in this network namespace: psutil reads
    /proc/net/tcp and tcp6, which are per namespace, and finds the process through /proc/*/fd."""
    import psutil

    return [(c.laddr.ip, c.laddr.port, _process_name(c.pid)) for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr]


def running_programs() -> set[str]:
    import psutil

    return {p.info["name"] for p in psutil.process_iter(["name"]) if p.info.get("name")}


def linux_remote_access() -> RemoteAccessReport:
    import psutil

    found, unreadable = [], []
    try:
        found += [RemoteAccess(kind, detail) for kind, detail in parsers.remote_listeners(listening_sockets())]
    except (OSError, psutil.Error) as exc:
        unreadable.append(f"listening sockets: {exc}")
    try:
        programs = running_programs()
        found += [RemoteAccess(kind, f"{name} running") for name, kind in REMOTE_SERVICES.items() if name in programs]
    except (OSError, psutil.Error) as exc:
        unreadable.append(f"processes: {exc}")
    return RemoteAccessReport(tuple(found), tuple(unreadable))


# Display managers' files, relative to the root, in reading order: a later file wins.
DISPLAY_MANAGERS = {
    "gdm": (("etc/gdm3/daemon.conf", "etc/gdm3/custom.conf", "etc/gdm/custom.conf"), parsers.gdm_auto_login),
    "lightdm": (("usr/share/lightdm/lightdm.conf.d/*.conf", "etc/lightdm/lightdm.conf.d/*.conf",
                 "etc/lightdm/lightdm.conf"), parsers.lightdm_auto_login),
    "sddm": (("usr/lib/sddm/sddm.conf.d/*.conf", "etc/sddm.conf.d/*.conf", "etc/sddm.conf"),
             parsers.sddm_auto_login),
}


def display_manager_groups(root: Path, patterns: Sequence[str]) -> dict[str, dict[str, str]]:
    groups: dict[str, dict[str, str]] = {}
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            for name, keys in parsers.parse_ini(path.read_text(encoding="utf-8", errors="replace")).items():
                groups.setdefault(name, {}).update(keys)
    return groups


def display_manager_auto_login(root: Path = Path("/")) -> tuple[str | None, str]:
    """(account, display manager) of an automatic sign-in set for GDM, LightDM or SDDM in their
    files under `root`; (None, "") when none is. Raises OSError when a file cannot be read."""
    for manager, (patterns, auto_login) in DISPLAY_MANAGERS.items():
        user = auto_login(display_manager_groups(root, patterns))
        if user:
            return user, manager
    return None, ""


def unix_admin_from_files(user: str, root: Path = Path("/")) -> bool:
    """`user` is in sudo, wheel or admin according to the local files under `root` (etc/passwd,
    etc/group). Groups from a directory (LDAP, SSSD) are not seen."""
    passwd = (root / "etc/passwd").read_text(encoding="utf-8", errors="replace")
    group = (root / "etc/group").read_text(encoding="utf-8", errors="replace")
    return parsers.unix_admin(user, parsers.passwd_gid(passwd, user), group)


def current_user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def password_on_wake() -> bool | None:
    """GNOME's lock-enabled or KDE's LockOnResume; None on a desktop whose setting Vigie cannot read."""
    family = desktop_family(os.environ.get("XDG_CURRENT_DESKTOP", ""))
    if family == "gnome":
        return parsers.parse_gsettings_bool(gsettings_get("org.gnome.desktop.screensaver", "lock-enabled"))
    if family == "kde":
        return parsers.kde_lock_on_resume(kscreenlockerrc_text())
    return None


def linux_sign_in(root: Path = Path("/")) -> SignInState:
    user, unreadable = current_user(), []
    auto_login_read = True
    try:
        auto_user, source = display_manager_auto_login(root)
    except OSError as exc:
        auto_user, source, auto_login_read = None, "", False
        unreadable.append(f"display manager settings: {exc}")
    try:
        wake = password_on_wake()
    except (PlatformError, ValueError, OSError) as exc:
        wake = None
        unreadable.append(f"password on wake: {exc}")
    admin: bool | None = None
    if os.getuid() == 0:  # an IT provider's tool running as root: the daily account is someone else
        unreadable.append("groups: running as root, not as the daily account")
    else:
        try:
            admin = unix_admin_from_files(user, root)
        except OSError as exc:
            unreadable.append(f"groups: {exc}")
    return SignInState(user, auto_user, source, wake, admin, tuple(unreadable), auto_login_read)


def wireless_interfaces(net: Path = Path("/sys/class/net")) -> list[str]:
    """The network interfaces the kernel knows as Wi-Fi."""
    return sorted(p.name for p in net.iterdir() if (p / "wireless").exists() or (p / "phy80211").exists())


NMCLI_WIFI_LIST = ["nmcli", "-t", "-f", ",".join(parsers.NMCLI_WIFI_FIELDS), "device", "wifi", "list",
                   "--rescan", "no"]  # what NetworkManager already knows: Vigie never makes it scan


def nmcli_wifi_list(timeout: float = 10.0) -> str:
    return proc.run(NMCLI_WIFI_LIST, timeout, env=_tool_env()).stdout


def linux_wifi() -> WifiState:
    """No Wi-Fi interface at all: no Wi-Fi in use. Otherwise NetworkManager says which network is
    in use; without it (or when it does not answer) this cannot be told."""
    if not wireless_interfaces():
        return WifiState(False, "sysfs")
    in_use = parsers.nmcli_wifi_in_use(nmcli_wifi_list())
    if in_use is None:
        return WifiState(False, "nmcli")
    ssid, security = in_use
    return WifiState(True, "nmcli", ssid, security, parsers.wifi_level(security))


def xdg_data_dirs() -> list[Path]:
    """Where desktop entries live: the user's, XDG_DATA_DIRS, and Flatpak's and Snap's exports (a
    session started without their profile scripts may lack them)."""
    home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local/share")
    system = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    extra = [str(Path(home) / "flatpak/exports/share"), "/var/lib/flatpak/exports/share", "/var/lib/snapd/desktop"]
    return [Path(d) for d in dict.fromkeys([home, *system.split(":"), *extra]) if d and os.path.isabs(d)]


def desktop_entry_names(data_dirs: Sequence[Path]) -> set[str]:
    """Lower-cased desktop file ids (org.keepassxc.keepassxc) and Name= values of the applications
    installed, the deleted ones (Hidden=true) left out."""
    names: set[str] = set()
    for data_dir in data_dirs:
        applications = data_dir / "applications"
        for path in applications.rglob("*.desktop"):
            try:
                entry = parsers.parse_ini(path.read_text(encoding="utf-8", errors="replace")).get("Desktop Entry", {})
            except OSError:
                continue
            if entry.get("Hidden", "").lower() == "true":
                continue
            names.add(str(path.relative_to(applications).with_suffix("")).replace("/", "-").lower())
            if entry.get("Name"):
                names.add(entry["Name"].lower())
    return names


def path_executables() -> set[str]:
    names: set[str] = set()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        try:
            names.update(entry.name.lower() for entry in os.scandir(folder) if entry.is_file())
        except OSError:
            continue
    return names


def linux_installed_apps() -> InstalledApps:
    return InstalledApps(frozenset(desktop_entry_names(xdg_data_dirs()) | path_executables()), ("desktop", "path"))

# --- Protection checks (issue 20) ----------------------------------------------------------------
# Disk encryption from lsblk (a dm-crypt mapping between the disk and the mount) and the
# device-mapper UUIDs; the firewall from nftables, ufw or firewalld; the system from os-release.

LSBLK_COLUMNS = "NAME,TYPE,FSTYPE,MOUNTPOINTS"
PROTECTION_TIMEOUT = 10.0


def lsblk_json(timeout: float = PROTECTION_TIMEOUT) -> str:
    return proc.run(["lsblk", "-J", "-o", LSBLK_COLUMNS], timeout, env=_tool_env()).stdout


def dm_uuids() -> dict[str, str]:
    """Device-mapper name -> UUID of every mapping ("CRYPT-LUKS2-<uuid>-<name>" for LUKS2)."""
    found = {}
    for mapping in Path("/sys/block").glob("dm-*/dm"):
        try:
            found[(mapping / "name").read_text().strip()] = (mapping / "uuid").read_text().strip()
        except OSError:
            continue  # removed meanwhile
    return found


def mount_point_of(folder: str) -> str:
    path = Path(folder).resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return str(path)


def mount_fs_type(mount_point: str) -> str:
    return next((fs for _, point, fs, _ in parsers.parse_mountinfo(read_mountinfo()) if point == mount_point), "")


def linux_disk_encryption(folder: str, timeout: float = PROTECTION_TIMEOUT) -> DiskEncryption:
    mount_point = mount_point_of(folder)
    devices = parsers.parse_lsblk_json(lsblk_json(timeout))
    found = parsers.lsblk_encryption(devices, mount_point, dm_uuids())
    if found is not None:
        return found
    # A network share, a tmpfs, a container's overlay: no local disk Vigie can look at.
    fs_type = mount_fs_type(mount_point)
    return DiskEncryption(ENCRYPTION_UNKNOWN, "", mount_point, f"no disk mounted at {mount_point} ({fs_type or '?'})")


def nft_ruleset(timeout: float = PROTECTION_TIMEOUT) -> str:
    """Needs CAP_NET_ADMIN (root): a user's Vigie reads ufw's or firewalld's state instead."""
    return proc.run(["nft", "-j", "list", "ruleset"], timeout, env=_tool_env()).stdout


def ufw_status(timeout: float = PROTECTION_TIMEOUT) -> str:
    return proc.run(["ufw", "status"], timeout, env=_tool_env()).stdout


UFW_CONF = Path("/etc/ufw/ufw.conf")


def ufw_conf_text() -> str | None:
    try:
        return UFW_CONF.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def firewalld_state(timeout: float = PROTECTION_TIMEOUT) -> str:
    """"running", or "not running" with exit code 252."""
    return proc.run(["firewall-cmd", "--state"], timeout, ok_codes=(0, 252), env=_tool_env()).stdout.strip()


def _nft_status(timeout: float) -> FirewallStatus | None:
    return parsers.nft_firewall(nft_ruleset(timeout)) if shutil.which("nft") else None


def _ufw_status(timeout: float) -> FirewallStatus | None:
    if shutil.which("ufw") is None:
        return None
    try:
        active = parsers.parse_ufw_status(ufw_status(timeout))
        source = "ufw status"
    except PlatformError:  # "You need to be root": its settings file says whether it starts
        active, source = None, ""
    if active is None:
        text = ufw_conf_text()
        if text is None:
            raise ToolFailed(T("The state of the firewall could not be read."), "ufw: no status and no ufw.conf")
        active, source = parsers.parse_ufw_conf(text), "ufw.conf"
    return FirewallStatus("ufw", (FirewallProfile("ufw", active),), f"{source}: {'active' if active else 'inactive'}")


def _firewalld_status(timeout: float) -> FirewallStatus | None:
    if shutil.which("firewall-cmd") is None:
        return None
    state = firewalld_state(timeout)
    return FirewallStatus("firewalld", (FirewallProfile("firewalld", state == "running"),), f"firewall-cmd: {state}")


def linux_firewall(timeout: float = PROTECTION_TIMEOUT) -> FirewallStatus:
    """The first firewall found that filters; else what was read (nftables shows what is missing).
    Several are asked because nft needs root, and legacy iptables rules do not show in nft."""
    read, failures = [], []
    for source in (_nft_status, _ufw_status, _firewalld_status):
        try:
            status = source(timeout)
        except PlatformError as exc:
            failures.append(f"{source.__name__}: {exc.log_detail or exc}")
            continue
        if status is not None:
            read.append(status)
    for status in read:
        if any(profile.enabled for profile in status.profiles):
            return status
    if read:
        return read[0]
    if failures:
        raise NotSupported(T("Only an administrator can read this computer's firewall rules."), "; ".join(failures))
    return FirewallStatus("none", (), "no nft, ufw or firewalld")


OS_RELEASE_FILES = (Path("/etc/os-release"), Path("/usr/lib/os-release"))  # os-release(5)'s order


def os_release_text() -> str:
    for path in OS_RELEASE_FILES:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
    raise ToolFailed(T("The version of the system could not be read."), "no os-release file")
