"""Linux: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import logging
import os
import select
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from vigie.bounded import bounded_call
from vigie.model import T
from vigie.platform import clamav, dbus, parsers, pcsc, proc
from vigie.platform.base import (
    ENCRYPTION_UNKNOWN,
    AntivirusStatus,
    BackupRecord,
    DiskEncryption,
    FirewallProfile,
    FirewallStatus,
    IdleState,
    LockPolicy,
    NetworkState,
    NotSupported,
    OsVersion,
    PendingUpdate,
    PlatformError,
    ScanResult,
    ToolFailed,
    ToolMissing,
    UpdateStatus,
    Volume,
)

log = logging.getLogger(__name__)

# Desktop screen savers that lock on request (KDE and others; GNOME), tried in this order.
SCREENSAVERS = (
    ("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver"),
    ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"),
)
LOCK_COMMANDS = (("loginctl", "lock-session"), ("xdg-screensaver", "lock"))

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
    dbus.call(service, path, interface, "Lock", timeout=2.0)


def screensaver_active(service: str, path: str, interface: str) -> bool:
    return bool(dbus.call(service, path, interface, "GetActive", timeout=1.0)[0])


def mutter_idle_ms() -> int:
    """GNOME (X11 and Wayland)."""
    return int(dbus.call("org.gnome.Mutter.IdleMonitor", "/org/gnome/Mutter/IdleMonitor/Core",
                         "org.gnome.Mutter.IdleMonitor", "GetIdletime", timeout=1.0)[0])


def kde_idle_ms() -> int:
    """KDE on X11: milliseconds, although the interface calls it seconds; Wayland answers NotSupported."""
    return int(dbus.call("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver",
                         "GetSessionIdleTime", timeout=1.0)[0])


def x11_idle() -> tuple[int, bool]:
    """Any X11 desktop, through the MIT-SCREEN-SAVER extension: (idle ms, screen saver on)."""
    if not os.environ.get("DISPLAY"):
        raise NotSupported(T("There is no graphical session here."), "no DISPLAY")
    from Xlib import display
    from Xlib.ext import screensaver

    def query() -> tuple[int, bool]:
        connection = display.Display()
        try:
            info = connection.screen().root.screensaver_query_info()
            return int(info.idle), info.state == screensaver.StateOn
        finally:
            connection.close()

    return bounded_call(query, 2.0, "vigie-x11-idle")


def x11_keyboard_grabbed() -> bool:
    """Another client holds the keyboard grab (i3lock, xsecurelock, xscreensaver...)."""
    if not os.environ.get("DISPLAY"):
        raise NotSupported(T("There is no graphical session here."), "no DISPLAY")
    from Xlib import X, display

    def probe() -> bool:
        connection = display.Display()
        try:
            status = connection.screen().root.grab_keyboard(False, X.GrabModeAsync, X.GrabModeAsync, X.CurrentTime)
            if status == X.GrabSuccess:
                connection.ungrab_keyboard(X.CurrentTime)
                connection.sync()
            return status == X.AlreadyGrabbed
        finally:
            connection.close()

    return bounded_call(probe, 2.0, "vigie-x11-grab")


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


def blkid_properties(device: str) -> dict[str, str]:
    """Read the label straight from the file system (when udev has not): needs read access to it."""
    try:
        return parsers.parse_udev_properties(proc.run(["blkid", "-p", "-o", "udev", device], 5.0).stdout)
    except PlatformError:
        return {}


def filesystem_size(mount_point: str) -> int | None:
    try:
        stats = os.statvfs(mount_point)
    except OSError:
        return None  # vanished meanwhile: not an error
    return stats.f_blocks * stats.f_frsize


def wait_for_mountinfo_change(mountinfo, poller: select.poll, timeout: float | None) -> bool:
    """The kernel flags /proc/self/mountinfo with POLLPRI on every mount change: no polling loop."""
    if not poller.poll(None if timeout is None else int(timeout * 1000)):
        return False
    mountinfo.seek(0)
    mountinfo.read()  # re-arm
    return True


def unmount(volume_device: str, mount_point: str) -> None:
    if shutil.which("udisksctl"):
        try:
            proc.run(["udisksctl", "unmount", "--no-user-interaction", "-b", volume_device], 30)
            proc.run(["udisksctl", "power-off", "--no-user-interaction", "-b", volume_device], 30)
            return
        except PlatformError as exc:
            log.warning("udisksctl could not eject %s: %s", volume_device, exc)
    proc.run(["umount", mount_point], 30)


def notification_server_present() -> bool:
    try:
        return bool(dbus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "NameHasOwner", "s", ("org.freedesktop.Notifications",), timeout=1.0)[0])
    except PlatformError:
        return False


def start_locker(argv: Sequence[str], on_exit: Callable[[], None] = lambda: None) -> subprocess.Popen:
    """Start a locker program (i3lock -n, xsecurelock...). It may stay in the foreground while it
    holds the screen, or fork and exit 0: both are a success; any other exit is a failure."""
    try:
        # Its own session: the lock must survive whatever happens to Vigie afterwards.
        locker = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        raise ToolFailed(T("The screen locker {tool} could not be started.", tool=argv[0]), str(exc)) from exc
    try:
        code = locker.wait(1.0)
    except subprocess.TimeoutExpired:
        threading.Thread(target=_reap, args=(locker, on_exit), name="vigie-locker-reaper", daemon=True).start()
        return locker
    if code != 0:
        error = locker.stdout.read().decode(errors="replace").strip()[-300:] if locker.stdout else ""
        raise ToolFailed(T("The screen locker {tool} failed (code {code}).", tool=argv[0], code=code), error)
    return locker


def _reap(locker: subprocess.Popen, on_exit: Callable[[], None]) -> None:
    locker.communicate()  # drains stderr and reaps it when the user unlocks: no zombie
    on_exit()


NETWORK_TIMEOUT = 30.0  # s; nmcli may take a few seconds to bring everything down
NETWORK_CHECK_TIMEOUT = 10.0


def linux_ip_json(args: Sequence[str], prefix: Sequence[str] = (), timeout: float = NETWORK_CHECK_TIMEOUT) -> str:
    """`ip -j ARGS`; prefix runs it elsewhere (the tests: `ip netns exec NS`)."""
    return proc.run([*prefix, "ip", "-j", *args], timeout).stdout


def read_network(prefix: Sequence[str] = ()) -> NetworkState:
    links = parsers.parse_ip_json(linux_ip_json(["addr", "show"], prefix))
    routes = parsers.parse_ip_json(linux_ip_json(["-4", "route", "show"], prefix))
    routes += parsers.parse_ip_json(linux_ip_json(["-6", "route", "show"], prefix))
    return parsers.assess_linux(links, routes)


def cut_linux(timeout: float = NETWORK_TIMEOUT) -> str:
    if shutil.which("nmcli") is None:
        raise NotSupported(T("NetworkManager is not installed: Vigie cannot cut the network by itself here."))
    proc.run(["nmcli", "networking", "off"], timeout)
    return "nmcli networking off"


class LinuxPlatform:
    name = "linux"
    lock_shortcut = T("Super + L (or Ctrl + Alt + L)")  # named in advice to lock by hand

    def __init__(self) -> None:
        self._locker: subprocess.Popen | None = None
        self._idle_source: str | None = None  # the first source that answered is kept
        self._unlock_listeners: list[Callable[[], None]] = []
        self._mountinfo = None  # opened on first wait_for_mount_change()
        self._mount_poller: select.poll | None = None

    def pending_updates(self, timeout: float) -> UpdateStatus:
        if shutil.which("apt-get"):
            updates = parsers.parse_apt_simulate(apt_simulate_upgrade(timeout))
            return UpdateStatus("apt", tuple(updates))
        if shutil.which("dnf"):
            return self._dnf_pending(timeout)
        raise NotSupported(T("No supported package manager (apt or dnf) was found."))

    def lock_screen(self, locker_command: Sequence[str] = ()) -> str:
        failures = []
        for service, path, interface in SCREENSAVERS:
            try:
                screensaver_lock(service, path, interface)
                return service
            except PlatformError as exc:
                failures.append(f"{service}: {exc}")
        for argv in LOCK_COMMANDS:
            try:
                proc.run(argv, 5)
                return argv[0]
            except PlatformError as exc:
                failures.append(f"{argv[0]}: {exc}")
        if locker_command:
            self._locker = start_locker(locker_command, self._unlocked)
            return locker_command[0]
        log.warning("no way to lock the screen: %s", "; ".join(failures))
        raise NotSupported(T("No way to lock the screen was found on this computer."), "; ".join(failures))

    def input_grabbed(self) -> bool | None:
        try:
            return x11_keyboard_grabbed()
        except Exception as exc:  # no X server, Xlib error, timeout: cannot tell
            log.debug("keyboard grab probe: %s", exc)
            return None

    def on_unlock(self, callback: Callable[[], None]) -> None:
        self._unlock_listeners.append(callback)

    def _unlocked(self) -> None:
        for callback in self._unlock_listeners:
            callback()

    def screen_locked(self) -> bool | None:
        if self._locker is not None and self._locker.poll() is None:
            return True
        for service, path, interface in SCREENSAVERS:
            try:
                return screensaver_active(service, path, interface)
            except PlatformError:
                continue
        return None

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
        volumes, seen = [], set()
        for major_minor, mount_point, fs_type, source in parsers.parse_mountinfo(read_mountinfo()):
            if not source.startswith("/dev/") or source in seen:
                continue  # not a block device, or a bind mount of one already listed
            seen.add(source)
            volumes.append(self._volume(device_number(source) or major_minor, source, mount_point, fs_type))
        return volumes

    @staticmethod
    def _volume(major_minor: str, device: str, mount_point: str, fs_type: str) -> Volume:
        removable = block_is_removable(major_minor)
        label = uuid = ""
        if removable:  # identity only matters for removable media; blkid costs a process
            properties = udev_properties(major_minor)
            if "ID_FS_UUID" not in properties:
                properties = blkid_properties(device)
            label, uuid, _ = parsers.volume_identity(properties)
        return Volume(device, mount_point, fs_type, label, uuid, filesystem_size(mount_point), removable)

    def wait_for_mount_change(self, timeout: float | None) -> bool:
        if self._mount_poller is None:
            self._mountinfo = open("/proc/self/mountinfo", "rb")  # noqa: SIM115 - kept open to be polled
            self._mountinfo.read()
            self._mount_poller = select.poll()
            self._mount_poller.register(self._mountinfo, select.POLLPRI | select.POLLERR)
        return wait_for_mountinfo_change(self._mountinfo, self._mount_poller, timeout)

    def eject(self, volume: Volume) -> None:
        unmount(volume.device, volume.mount_point)

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

    def cut_network(self, timeout: float) -> str:
        return cut_linux(timeout)

    def smartcards(self, timeout: float) -> list[tuple[str, str]] | None:
        return pcsc.present_cards(timeout=timeout)  # PC/SC is the same API on every OS

    def lock_policy(self) -> LockPolicy:
        desktop = os.environ.get("XDG_CURRENT_DESKTOP", "")
        family = desktop_family(desktop)
        if family is None:
            raise NotSupported(T("This desktop's automatic lock setting cannot be read."),
                               f"XDG_CURRENT_DESKTOP={desktop!r}")
        return readable_lock_policy(gnome_lock_policy if family == "gnome" else kde_lock_policy)

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
}


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
