"""macOS: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import re
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from vigie.model import T
from vigie.platform import clamav, parsers, pcsc, proc
from vigie.platform.base import (
    AntivirusProduct,
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
    NetworkState,
    OsVersion,
    PlatformError,
    RemoteAccess,
    RemoteAccessReport,
    ScanResult,
    SignInState,
    ToolFailed,
    ToolMissing,
    UpdateStatus,
    Volume,
    WifiState,
)
from vigie.platform.lock_proof import LOCK_PROOF_SECONDS, await_proof
from vigie.platform.mount_events import EventSource

log = logging.getLogger(__name__)

_NO_UPDATES = "No new software available"
# Private but stable since 10.13; the CGSession binary used before is gone since Big Sur.
LOGIN_FRAMEWORK = "/System/Library/PrivateFrameworks/login.framework/Versions/Current/login"


def sac_lock_screen() -> None:
    try:
        login = ctypes.CDLL(LOGIN_FRAMEWORK)
    except OSError as exc:
        raise ToolFailed(T("macOS refused to lock the session."), str(exc)) from exc
    status = login.SACLockScreenImmediate()
    if status != 0:
        raise ToolFailed(T("macOS refused to lock the session."), f"SACLockScreenImmediate returned {status}")


def hid_idle_seconds() -> float:
    from Quartz import (  # pyobjc, macOS only
        CGEventSourceSecondsSinceLastEventType,
        kCGAnyInputEventType,
        kCGEventSourceStateHIDSystemState,
    )

    return float(CGEventSourceSecondsSinceLastEventType(kCGEventSourceStateHIDSystemState, kCGAnyInputEventType))


def quartz_session() -> dict | None:
    """The window server's description of this login session; None outside a GUI session."""
    from Quartz import CGSessionCopyCurrentDictionary  # pyobjc, macOS only

    session = CGSessionCopyCurrentDictionary()
    return None if session is None else dict(session)


def session_screen_locked() -> bool | None:
    session = quartz_session()
    return None if session is None else bool(session.get("CGSSessionScreenIsLocked", 0))


def session_on_console() -> bool | None:
    """kCGSessionOnConsoleKey: this session is the one at the screen (not switched away from)."""
    session = quartz_session()
    return None if session is None else bool(session.get("kCGSSessionOnConsoleKey", 0))


def mac_lock_proof() -> str | None:
    return "CGSSessionScreenIsLocked" if session_screen_locked() else None


def softwareupdate_list(timeout: float) -> tuple[str, str]:
    result = proc.run(["softwareupdate", "-l"], timeout)
    return result.stdout, result.stderr


def current_major() -> int | None:
    release = platform.mac_ver()[0]
    return int(release.split(".")[0]) if release else None


NETWORK_TIMEOUT = 30.0  # s; networksetup may take a few seconds per service
NETWORK_CHECK_TIMEOUT = 10.0


def addressed_interfaces() -> tuple[str, ...]:
    import psutil

    return parsers.addressed_interfaces(psutil.net_if_stats(), psutil.net_if_addrs())


def macos_route_get(family: str, timeout: float = NETWORK_CHECK_TIMEOUT) -> str:
    # Exit code 1 and "not in table" when there is no such route: not a failure here.
    return proc.run(["route", "-n", "get", family, "default"], timeout, ok_codes=(0, 1)).stdout


def read_network() -> NetworkState:
    routes = [parsers.parse_route_get(macos_route_get(family)) for family in ("-inet", "-inet6")]
    try:
        ports = parsers.parse_hardware_ports(_networksetup("-listallhardwareports"))
    except PlatformError as exc:  # the state is still right; the connections are then named "other"
        log.warning("network: hardware ports unreadable: %s", exc)
        ports = []
    return macos_network_state(addressed_interfaces(), [r for r in routes if r], ports)


def macos_network_state(connected: Sequence[str], routes: Sequence[str],
                        ports: Sequence[tuple[str, str]]) -> NetworkState:
    """Pure: tested on a real `networksetup -listallhardwareports`."""
    default_via = tuple(dict.fromkeys(routes))
    kinds = parsers.macos_connection_kinds(ports)
    used = dict.fromkeys((*default_via, *connected))
    return NetworkState(tuple(connected), default_via, tuple((name, parsers.macos_kind(name, kinds)) for name in used))


def can_cut_network() -> bool:
    """networksetup turns Wi-Fi off for any user (the services may need an administrator)."""
    return shutil.which("networksetup") is not None


def _networksetup(*args: str, timeout: float = NETWORK_CHECK_TIMEOUT) -> str:
    return proc.run(["networksetup", *args], timeout).stdout


def cut_network(timeout: float = NETWORK_TIMEOUT) -> str:
    """Wi-Fi off (any user may), then every service disabled (may need an administrator)."""
    done = 0
    for port, device in parsers.parse_hardware_ports(_networksetup("-listallhardwareports")):
        if port in ("Wi-Fi", "AirPort"):
            _networksetup("-setairportpower", device, "off", timeout=timeout)
            done += 1
    for service in parsers.parse_network_services(_networksetup("-listallnetworkservices")):
        try:
            _networksetup("-setnetworkserviceenabled", service, "off", timeout=timeout)
            done += 1
        except PlatformError as exc:
            log.warning("network: service %r not disabled: %s", service, exc)
    if not done:
        raise ToolFailed(T("The program {tool} failed (code {code}).", tool="networksetup", code=1), "nothing cut")
    return "networksetup"


LAUNCHCTL_TIMEOUT = 10.0


def launchctl_bootstrap(plist: Path) -> None:
    """Load a LaunchAgent into the user's GUI session now (launchd reads it anyway at the next login)."""
    proc.run(["launchctl", "bootstrap", f"gui/{os.getuid()}", str(plist)], timeout=LAUNCHCTL_TIMEOUT)


def launchctl_bootout(label: str) -> None:
    proc.run(["launchctl", "bootout", f"gui/{os.getuid()}/{label}"], timeout=LAUNCHCTL_TIMEOUT)


def mac_updater() -> list[str]:
    """System Settings › Software Update (the link System Preferences answers too, on older macOS)."""
    return ["/usr/bin/open", "x-apple.systempreferences:com.apple.preferences.softwareupdate"]


class MacPlatform:
    name = "macos"
    lock_shortcut = T("Ctrl + Cmd + Q")  # named in advice to lock by hand

    def __init__(self) -> None:
        self._mount_events: EventSource | None = None  # started by the first wait_for_mount_change()

    def lock_screen(self, locker_command: Sequence[str] = (), budget: float = LOCK_PROOF_SECONDS) -> LockProof:
        sac_lock_screen()
        proof = await_proof(mac_lock_proof, budget)
        if proof is None:
            raise LockUnproven(T("macOS was asked to lock the session, but it did not lock."),
                               f"SACLockScreenImmediate: CGSSessionScreenIsLocked still false after {budget:g} s")
        return LockProof("SACLockScreenImmediate", proof)

    def lock_route(self, locker_command: Sequence[str] = ()) -> LockRoute:
        return LockRoute("SACLockScreenImmediate", "CGSSessionScreenIsLocked")

    def session_active(self) -> bool | None:
        try:
            return session_on_console()
        except (ImportError, OSError) as exc:
            log.info("cannot tell whether this session is the one at the screen: %s", exc)
            return None

    def screen_locked(self) -> bool | None:
        return session_screen_locked()

    def mounted_volumes(self) -> list[Volume]:
        volumes = []
        for mount_point in volumes_mount_points():
            try:
                volume = parsers.volume_from_diskutil_plist(diskutil_info_plist(mount_point))
            except PlatformError as exc:
                log.warning("diskutil info failed for a volume, skipped: %s", exc)
                continue
            if volume is None or not volume.mount_point:
                log.warning("diskutil info unreadable or not mounted for a volume, skipped")
                continue
            volumes.append(volume)
        return volumes

    def wait_for_mount_change(self, timeout: float | None) -> bool:
        if self._mount_events is None:
            self._mount_events = EventSource(disk_arbitration_watch, "vigie-disk-arbitration")
        return self._mount_events.wait(timeout)

    def updater_command(self) -> list[str] | None:
        return mac_updater()

    def eject(self, volume: Volume) -> None:
        if MAC_DEVICE.fullmatch(volume.device):
            try:
                diskutil_eject(volume.device)
                return
            except PlatformError as exc:
                log.warning("diskutil eject failed, unmounting instead: %s", exc)
        if not volume.mount_point.startswith("/"):
            raise ToolFailed(T("The program {tool} could not be started.", tool="diskutil"),
                             f"no usable device or mount point: {volume.device!r} {volume.mount_point!r}")
        diskutil_unmount(volume.mount_point)

    def scanner_available(self) -> bool:
        return clamav.clamscan_available()  # macOS has no command-line scanner of its own

    def scan_volume(self, volume: Volume, timeout: float) -> ScanResult:
        return clamav.clamscan(volume, timeout)

    def input_grabbed(self) -> bool | None:
        return None  # screen_locked() answers reliably here

    def on_unlock(self, callback: Callable[[], None]) -> None:
        """Not reported here: the idle watcher notices the return on its next look."""

    def idle_state(self) -> IdleState:
        return IdleState(hid_idle_seconds(), source="CGEventSource")

    def media_in_use(self) -> bool | None:
        return None  # macOS shows its own camera/microphone indicator; no public API to read it here

    def pending_updates(self, timeout: float) -> UpdateStatus:
        stdout, stderr = softwareupdate_list(timeout)
        updates = parsers.parse_softwareupdate(stdout, current_major())
        # "No new software available." arrives on stderr; anything else with no list is a failure.
        if not updates and "* Label:" not in stdout and _NO_UPDATES not in stderr:
            raise ToolFailed(T("The update list from macOS could not be read."), stderr.strip()[-300:])
        return UpdateStatus("softwareupdate", tuple(updates))

    def system_backups(self, timeout: float) -> list[BackupRecord]:
        record = time_machine_backup(timeout)
        return [record] if record is not None else []

    def network_state(self) -> NetworkState:
        return read_network()

    def can_cut_network(self) -> bool:
        return can_cut_network()

    def cut_network(self, timeout: float) -> str:
        return cut_network(timeout)

    def smartcards(self, timeout: float) -> list[tuple[str, str]] | None:
        return pcsc.present_cards(timeout=timeout)  # PC/SC is the same API on every OS

    def lock_policy(self) -> LockPolicy:
        try:
            delay = parsers.parse_screenlock_status(sysadminctl_screenlock_status())
            idle = screensaver_idle_time()
            idle_seconds = DEFAULT_SCREENSAVER_IDLE if idle is None else int(idle.strip())
            display_minutes = parsers.parse_pmset_displaysleep(pmset_settings())
        except ValueError as exc:
            raise ToolFailed(T("The automatic lock setting could not be read."), str(exc)) from exc
        detail = f"screensaver idleTime={idle_seconds} displaysleep={display_minutes} screenLock delay={delay}"
        return LockPolicy(mac_lock_after(idle_seconds, display_minutes, delay), "macos", detail)

    # --- Access checks (issue 20) ---------------------------------------------------------------
    def remote_access(self) -> RemoteAccessReport:
        return mac_remote_access()

    def sign_in(self) -> SignInState:
        return mac_sign_in()

    def wifi(self) -> WifiState:
        return mac_wifi()

    def installed_apps(self) -> InstalledApps:
        folders = (Path("/Applications"), Path.home() / "Applications")
        return InstalledApps(frozenset(application_names(folders)), ("applications",))
    # Protection checks (issue 20)
    def disk_encryption(self, folder: str | None, timeout: float) -> DiskEncryption:
        return mac_disk_encryption(folder, timeout)

    def antivirus_status(self, timeout: float) -> AntivirusStatus:
        return mac_antivirus(timeout)

    def firewall_status(self, timeout: float) -> FirewallStatus:
        enabled = parsers.parse_socketfilterfw(socketfilterfw_global_state(timeout))
        if enabled is None:
            raise ToolFailed(T("The state of the firewall could not be read."), "socketfilterfw: no State")
        return FirewallStatus("socketfilterfw", (FirewallProfile("macOS", enabled),))

    def os_version(self) -> OsVersion:
        return parsers.parse_sw_vers(sw_vers())


# --- macOS's own automatic lock (read for the lock_policy check) ------------------------------

DEFAULT_SCREENSAVER_IDLE = 1200  # seconds, when idleTime was never set


def sysadminctl_screenlock_status() -> str:
    """macOS 12+; the answer is written on stderr."""
    result = proc.run(["sysadminctl", "-screenLock", "status"], 10)
    return result.stderr + result.stdout


def screensaver_idle_time() -> str | None:
    """Seconds before the screen saver starts (0 = never); None when never set (exit code 1)."""
    result = proc.run(["defaults", "-currentHost", "read", "com.apple.screensaver", "idleTime"], 10, ok_codes=(0, 1))
    return result.stdout if result.returncode == 0 else None


def pmset_settings() -> str:
    return proc.run(["pmset", "-g"], 10).stdout


def mac_lock_after(idle_seconds: int, display_minutes: int, screenlock_delay: int | None) -> int | None:
    """The screen lock starts `screenlock_delay` after the first of the screen saver and display
    sleep (0 = never for both); None when the lock is off or neither ever starts."""
    starts = [s for s in (idle_seconds, display_minutes * 60) if s > 0]
    if screenlock_delay is None or not starts:
        return None
    return min(starts) + screenlock_delay


# --- USB drives --------------------------------------------------------------------------------

VOLUMES_DIR = "/Volumes"
MAC_DEVICE = re.compile(r"/dev/disk\d+(?:s\d+)*")  # never an option-like argument for diskutil


def volumes_mount_points() -> list[str]:
    """Mount points under /Volumes; the boot volume's entry there is a symlink to /, left out."""
    try:
        with os.scandir(VOLUMES_DIR) as entries:
            paths = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    return sorted(p for p in paths if os.path.ismount(p))


def diskutil_info_plist(mount_point: str) -> bytes:
    return proc.run(["diskutil", "info", "-plist", mount_point], 10).stdout.encode("utf-8")


def diskutil_eject(device: str) -> None:
    proc.run(["diskutil", "eject", device], 60)


def diskutil_unmount(mount_point: str) -> None:
    proc.run(["diskutil", "unmount", mount_point], 60)


# --- USB insertion events -----------------------------------------------------------------------

def disk_callbacks(on_change: Callable[[], None]) -> tuple[Callable, Callable, Callable]:
    """DiskArbitration's appeared (disk, context), disappeared (disk, context) and description-changed
    (disk, keys, context) callbacks. A mount or unmount is a change of the volume path; a drive
    pulled out without ejecting only disappears. Nothing may raise back into the run loop."""

    def changed(what: str) -> None:
        try:
            on_change()
        except Exception:
            log.exception("disk %s callback", what)

    def appeared(disk, context) -> None:
        changed("appeared")

    def disappeared(disk, context) -> None:
        changed("disappeared")

    def described(disk, keys, context) -> None:
        changed("description changed")

    return appeared, disappeared, described


def disk_arbitration_watch(on_change: Callable[[], None], ready: Callable[[], None]) -> None:
    """A DiskArbitration session on this thread's run loop; returns only if the loop stops. At the
    start DiskArbitration reports every disk already there as appeared: one needless look at the
    volume list, once."""
    import DiskArbitration  # pyobjc-framework-DiskArbitration; missing → the volume watch polls
    from CoreFoundation import CFRunLoopGetCurrent, CFRunLoopRun, kCFRunLoopDefaultMode

    session = DiskArbitration.DASessionCreate(None)
    if session is None:
        raise OSError("DASessionCreate returned NULL")
    appeared, disappeared, described = disk_callbacks(on_change)
    DiskArbitration.DARegisterDiskAppearedCallback(session, None, appeared, None)
    DiskArbitration.DARegisterDiskDisappearedCallback(session, None, disappeared, None)
    DiskArbitration.DARegisterDiskDescriptionChangedCallback(
        session, None, DiskArbitration.kDADiskDescriptionWatchVolumePath, described, None)
    DiskArbitration.DASessionScheduleWithRunLoop(session, CFRunLoopGetCurrent(), kCFRunLoopDefaultMode)
    ready()
    CFRunLoopRun()


# --- Time Machine -------------------------------------------------------------------------------

# tmutil's exit code is 80 without Full Disk Access, 1 with no backup: the text tells them apart.
ANY_EXIT_CODE = range(-(2**31), 2**32)


def tmutil_latestbackup(timeout: float) -> str:
    """Needs Full Disk Access (10.14+) for the program that runs it: Vigie."""
    result = proc.run(["tmutil", "latestbackup"], timeout, ok_codes=ANY_EXIT_CODE)
    return result.stdout + "\n" + result.stderr


def tmutil_destinationinfo(timeout: float) -> str:
    result = proc.run(["tmutil", "destinationinfo"], timeout, ok_codes=ANY_EXIT_CODE)
    return result.stdout + "\n" + result.stderr


FULL_DISK_ACCESS = T("Vigie needs Full Disk Access to read the date of the last Time Machine backup. Open "
                     "System Settings › Privacy & Security › Full Disk Access, turn on Vigie (add it with “+” "
                     "if it is not in the list), then quit and restart Vigie.")


def time_machine_backup(timeout: float) -> BackupRecord | None:
    """None when Time Machine has no backup disk. A disk that is set up but not connected hides its
    backups (tmutil reads them on the disk): the date is then unknown, not "never"."""
    try:
        latest = tmutil_latestbackup(timeout)
    except ToolMissing:
        return None
    except PlatformError as exc:
        return BackupRecord("time_machine", None, error=exc.reason)
    when = parsers.parse_tmutil_latestbackup(latest)
    if when is None and parsers.tmutil_needs_full_disk_access(latest):
        return BackupRecord("time_machine", None, error=FULL_DISK_ACCESS)
    try:
        destinations = parsers.parse_tmutil_destinationinfo(tmutil_destinationinfo(timeout))
    except PlatformError as exc:
        log.warning("tmutil destinationinfo failed: %s", exc)
        return BackupRecord("time_machine", when) if when else BackupRecord("time_machine", None, error=exc.reason)
    if when is not None:
        return BackupRecord("time_machine", when, time_machine_destination(destinations, latest))
    if not destinations:
        return None
    names = ", ".join(d.get("Name", "") for d in destinations if d.get("Name"))
    if any(d.get("Mount Point") for d in destinations):
        return BackupRecord("time_machine", None, names)  # the disk is there and holds no backup yet
    log.info("Time Machine: no backup path and no destination mounted: %s", latest.strip()[-300:])
    return BackupRecord("time_machine", None, names, error=T(
        "The Time Machine backup disk “{name}” is not connected, so the date of its last backup cannot be read.",
        name=names))


def time_machine_destination(destinations: list[dict[str, str]], backup_path: str) -> str:
    """The destination the backup is on: the one whose mount point holds the path; else all of them
    (APFS backups are read through /Volumes/.timemachine/…, which names no destination)."""
    path = backup_path.strip()
    for destination in destinations:
        mount_point = destination.get("Mount Point", "")
        if mount_point and path.startswith(mount_point.rstrip("/") + "/"):
            return destination.get("Name", "")
    return ", ".join(d["Name"] for d in destinations if d.get("Name"))


# --- Access checks (issue 20) ---------------------------------------------------------------------

# The sharing services of System Settings › General › Sharing, by launchd job: launchd has the job
# only while the service is turned on. Read through launchctl's exit status alone (no captured
# output of it was available to parse).
SHARING_JOBS = {"com.openssh.sshd": "ssh", "com.apple.screensharing": "vnc", "com.apple.smbd": "file_sharing"}
LAUNCHCTL_NO_SUCH_SERVICE = 113
# Remote-control services, by the launch daemon their installers put in place: their presence only
# (no genuine sample of their unattended-access settings was available).
REMOTE_DAEMONS = {"/Library/LaunchDaemons/com.philandro.anydesk.service.plist": "anydesk",
                  "/Library/LaunchDaemons/com.teamviewer.teamviewer_service.plist": "teamviewer"}
LOGINWINDOW_PLIST = Path("/Library/Preferences/com.apple.loginwindow.plist")


def launchd_has_job(label: str) -> bool:
    result = proc.run(["launchctl", "print", f"system/{label}"], 10, ok_codes=(0, LAUNCHCTL_NO_SUCH_SERVICE))
    return result.returncode == 0


def mac_remote_access() -> RemoteAccessReport:
    found, unreadable = [], []
    for label, kind in SHARING_JOBS.items():
        try:
            if launchd_has_job(label):
                found.append(RemoteAccess(kind, f"launchd job {label}"))
        except PlatformError as exc:
            unreadable.append(f"{label}: {exc}")
    found += [RemoteAccess(kind, Path(plist).name) for plist, kind in REMOTE_DAEMONS.items() if os.path.exists(plist)]
    return RemoteAccessReport(tuple(found), tuple(unreadable))


def auto_login_user(plist: Path = LOGINWINDOW_PLIST) -> str | None:
    """loginwindow's autoLoginUser (System Settings › Users & Groups › Automatically log in as);
    None when it is not set. The file is readable by every user."""
    import plistlib

    try:
        with open(plist, "rb") as handle:
            preferences = plistlib.load(handle)
    except FileNotFoundError:
        return None
    user = preferences.get("autoLoginUser") if isinstance(preferences, dict) else None
    return str(user) if user else None


def account_groups(user: str) -> set[str]:
    """The groups of `user` as Directory Services resolves them (nested groups included)."""
    import grp
    import pwd

    names = set()
    for gid in os.getgrouplist(user, pwd.getpwnam(user).pw_gid):
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue
    return names


def mac_sign_in() -> SignInState:
    import getpass
    import plistlib

    user, unreadable, auto_login_read = getpass.getuser(), [], True
    try:
        auto_user = auto_login_user()
    except (OSError, plistlib.InvalidFileException) as exc:
        auto_user, auto_login_read = None, False
        unreadable.append(f"loginwindow: {exc}")
    try:
        wake: bool | None = parsers.parse_screenlock_status(sysadminctl_screenlock_status()) is not None
    except (PlatformError, ValueError) as exc:
        wake = None
        unreadable.append(f"screenLock: {exc}")
    admin: bool | None = None
    if os.getuid() == 0:  # an IT provider's tool running as root: the daily account is someone else
        unreadable.append("groups: running as root, not as the daily account")
    else:
        try:
            admin = "admin" in account_groups(user)
        except (OSError, KeyError) as exc:
            unreadable.append(f"groups: {exc}")
    return SignInState(user, auto_user, "loginwindow" if auto_user else "", wake, admin, tuple(unreadable),
                       auto_login_read)


def system_profiler_airport(timeout: float = 60.0) -> str:
    return proc.run(["system_profiler", "SPAirPortDataType", "-json"], timeout).stdout


def mac_wifi() -> WifiState:
    try:
        current = parsers.airport_current_network(system_profiler_airport())
    except ValueError as exc:
        raise ToolFailed(T("The Wi-Fi state could not be read."), str(exc)) from exc
    if current is None:
        return WifiState(False, "system_profiler")
    name, mode = current
    return WifiState(True, "system_profiler", name, mode, parsers.wifi_level(mode))


def application_names(folders: Sequence[Path]) -> set[str]:
    """The .app bundles in these folders, lower-cased without ".app" ("keepassxc", "1password 7")."""
    names: set[str] = set()
    for folder in folders:
        try:
            names.update(entry.name[:-4].lower() for entry in os.scandir(folder) if entry.name.endswith(".app"))
        except OSError:
            continue
    return names

# --- Protection checks (issue 20) ----------------------------------------------------------------
# FileVault (fdesetup) for the startup disk, diskutil for a backup drive; XProtect (always on, its
# list updated by Apple) and Gatekeeper (spctl); the application firewall (socketfilterfw).

PROTECTION_TIMEOUT = 20.0
SOCKETFILTERFW = "/usr/libexec/ApplicationFirewall/socketfilterfw"
XPROTECT_PLISTS = (Path("/Library/Apple/System/Library/CoreServices/XProtect.bundle/Contents/Info.plist"),
                   Path("/System/Library/CoreServices/XProtect.bundle/Contents/Info.plist"))  # before Catalina


def fdesetup_status(timeout: float = PROTECTION_TIMEOUT) -> str:
    return proc.run(["fdesetup", "status"], timeout).stdout


def diskutil_info_text(mount_point: str, timeout: float = PROTECTION_TIMEOUT) -> str:
    return proc.run(["diskutil", "info", mount_point], timeout).stdout


def mac_mount_point(folder: str) -> str:
    path = Path(folder).resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return str(path)


def mac_disk_encryption(folder: str | None, timeout: float = PROTECTION_TIMEOUT) -> DiskEncryption:
    mount_point = "/" if folder is None else mac_mount_point(folder)
    if mount_point in ("/", "/System/Volumes/Data"):  # the startup disk: FileVault
        return parsers.parse_fdesetup_status(fdesetup_status(timeout))
    return parsers.diskutil_encryption(diskutil_info_text(mount_point, timeout))


def spctl_status(timeout: float = PROTECTION_TIMEOUT) -> str:
    result = proc.run(["spctl", "--status"], timeout, ok_codes=(0, 1))
    return result.stdout + result.stderr


def xprotect_updated() -> datetime | None:
    """When Apple last updated XProtect's list (its bundle's Info.plist is replaced each time)."""
    for plist in XPROTECT_PLISTS:
        try:
            return datetime.fromtimestamp(plist.stat().st_mtime, UTC)
        except OSError:
            continue
    return None


def mac_antivirus(timeout: float = PROTECTION_TIMEOUT) -> AntivirusStatus:
    gatekeeper = parsers.parse_spctl_status(spctl_status(timeout))
    updated = xprotect_updated()
    products = (AntivirusProduct("XProtect", True if updated else None, signatures_date=updated,
                                 detail="bundle found" if updated else "no XProtect bundle"),
                AntivirusProduct("Gatekeeper", gatekeeper, detail=f"spctl: {gatekeeper}"))
    return AntivirusStatus("xprotect", products)


def socketfilterfw_global_state(timeout: float = PROTECTION_TIMEOUT) -> str:
    """Any user may ask (no root)."""
    return proc.run([SOCKETFILTERFW, "--getglobalstate"], timeout).stdout


def sw_vers(timeout: float = PROTECTION_TIMEOUT) -> str:
    return proc.run(["sw_vers"], timeout).stdout
