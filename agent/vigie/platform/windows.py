"""Windows: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import base64
import ctypes
import itertools
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from vigie.model import T
from vigie.platform import parsers, pcsc, proc
from vigie.platform.base import (
    ENCRYPTION_UNKNOWN,
    AntivirusStatus,
    BackupRecord,
    DiskEncryption,
    FirewallStatus,
    IdleState,
    InstalledApps,
    LockPolicy,
    LockProof,
    LockRoute,
    LockUnproven,
    NetworkState,
    NotSupported,
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

DESKTOP_SWITCHDESKTOP = 0x0100
SM_REMOTESESSION = 0x1000
CONSENT_STORE = r"Software\Microsoft\Windows\CurrentVersion\CapabilityAccessManager\ConsentStore"


class LASTINPUTINFO(ctypes.Structure):
    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint32)]


def idle_milliseconds(last_input_tick: int, now_tick64: int) -> int:
    """GetLastInputInfo gives a 32-bit tick that wraps every 49.7 days; compare it with the low
    32 bits of GetTickCount64, modulo 2**32, so the difference stays right across the wrap."""
    return (now_tick64 - last_input_tick) & 0xFFFFFFFF


def last_input_ticks() -> tuple[int, int]:
    info = LASTINPUTINFO(cbSize=ctypes.sizeof(LASTINPUTINFO))
    if not ctypes.windll.user32.GetLastInputInfo(ctypes.byref(info)):  # type: ignore[attr-defined]
        raise ToolFailed(T("Windows did not say when it was last used."), "GetLastInputInfo failed")
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    kernel32.GetTickCount64.restype = ctypes.c_uint64
    return info.dwTime, kernel32.GetTickCount64()


def media_in_use_from_consent_store(stops: Sequence[int]) -> bool:
    """An app is using the camera or microphone while its LastUsedTimeStop is 0."""
    return any(stop == 0 for stop in stops)


def consent_store_last_stops() -> list[int]:
    """LastUsedTimeStop of every app that used the webcam or microphone (packaged or not)."""
    import winreg

    stops = []
    for capability in ("webcam", "microphone"):
        stops += _last_stops(winreg, f"{CONSENT_STORE}\\{capability}")
        stops += _last_stops(winreg, f"{CONSENT_STORE}\\{capability}\\NonPackaged")
    return stops


def _last_stops(winreg, path: str) -> list[int]:
    stops = []
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, path) as key:
            for index in range(winreg.QueryInfoKey(key)[0]):
                name = winreg.EnumKey(key, index)
                try:
                    with winreg.OpenKey(key, name) as app:
                        stops.append(int(winreg.QueryValueEx(app, "LastUsedTimeStop")[0]))
                except OSError:
                    continue  # no usage recorded for this app
    except OSError:
        pass
    return stops

# Windows Update Agent search, offline (the result of Windows' own last scan): the COM search
# can take minutes or hang, so it runs in a child PowerShell that Vigie kills on timeout.
# Category ids are emitted because category names follow the display language.
WUA_SEARCH_SCRIPT = r"""
$ErrorActionPreference = 'Stop'
[Console]::OutputEncoding = [System.Text.Encoding]::UTF8
$searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
$searcher.Online = $false
$result = $searcher.Search("IsInstalled=0 and IsHidden=0 and Type='Software'")
$items = @(foreach ($u in $result.Updates) {
  [pscustomobject]@{
    title = $u.Title
    kbs = @($u.KBArticleIDs)
    category_ids = @($u.Categories | ForEach-Object { $_.CategoryID })
    msrc_severity = $u.MsrcSeverity
  }
})
ConvertTo-Json -InputObject $items -Depth 3 -Compress
"""


def _encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def wua_search(timeout: float) -> str:
    argv = ["powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
            "-EncodedCommand", _encoded(WUA_SEARCH_SCRIPT)]
    return proc.run(argv, timeout).stdout


def lock_workstation() -> None:
    # Asynchronous: a non-zero return means the lock has started.
    if not ctypes.windll.user32.LockWorkStation():  # type: ignore[attr-defined]
        raise ToolFailed(T("Windows refused to lock the session."), "LockWorkStation returned 0")


def input_desktop_locked() -> bool:
    # While locked, the input desktop is Winlogon's: it cannot be opened or switched to.
    from ctypes import wintypes

    user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined]
    # An HDESK is pointer-sized: undeclared, ctypes would cut it to a C int.
    user32.OpenInputDesktop.restype = wintypes.HANDLE
    user32.OpenInputDesktop.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    user32.SwitchDesktop.argtypes = user32.CloseDesktop.argtypes = [wintypes.HANDLE]
    desktop = user32.OpenInputDesktop(0, False, DESKTOP_SWITCHDESKTOP)
    if not desktop:
        return True
    try:
        return not user32.SwitchDesktop(desktop)
    finally:
        user32.CloseDesktop(desktop)


def windows_lock_proof() -> str | None:
    return "input desktop" if input_desktop_locked() else None


def session_ids() -> tuple[int, int, bool]:
    """(the session at the physical console, this process's session, this session is remote)."""
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    ours = ctypes.c_uint32()
    if not kernel32.ProcessIdToSessionId(kernel32.GetCurrentProcessId(), ctypes.byref(ours)):
        raise ToolFailed(T("Windows did not say which session this is."), "ProcessIdToSessionId failed")
    console = kernel32.WTSGetActiveConsoleSessionId() & 0xFFFFFFFF  # 0xFFFFFFFF: none attached (a switch)
    remote = bool(ctypes.windll.user32.GetSystemMetrics(SM_REMOTESESSION))  # type: ignore[attr-defined]
    return console, ours.value, remote


def session_at_console(console: int, ours: int, remote: bool) -> bool:
    """A remote (RDP) session sees its client's own readers (smart-card redirection): a card pulled out
    there is its own. A local one counts only while it is the session at the console: after a user
    switch, the console's reader belongs to whoever sits there."""
    return remote or console == ours


NETWORK_TIMEOUT = 30.0  # s; PowerShell may take a few seconds to bring every adapter down
NETWORK_CHECK_TIMEOUT = 10.0
WINDOWS_DEFAULT_ROUTES = ("Get-NetRoute -DestinationPrefix '0.0.0.0/0','::/0' -PolicyStore ActiveStore "
                          "-ErrorAction SilentlyContinue | Select-Object InterfaceAlias,NextHop | "
                          "ConvertTo-Json -Compress")
WINDOWS_DISABLE_ADAPTERS = ("Get-NetAdapter | Where-Object { $_.Status -ne 'Disabled' } | "
                            "Disable-NetAdapter -Confirm:$false -ErrorAction Stop")


def _powershell(script: str, timeout: float) -> str:
    argv = ["powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
            "-Command", script]
    return proc.run(argv, timeout).stdout


def addressed_interfaces() -> tuple[str, ...]:
    import psutil

    return parsers.addressed_interfaces(psutil.net_if_stats(), psutil.net_if_addrs())


def windows_is_admin() -> bool:
    try:
        return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return False


SE_FILE_OBJECT = 1
OWNER_SECURITY_INFORMATION = 0x1
DACL_SECURITY_INFORMATION = 0x4
SID_AFTER_MASK = {0, 1, 9, 10}  # ACCESS_ALLOWED, ACCESS_DENIED and their CALLBACK forms: the SID follows the mask


class ACL_HEADER(ctypes.Structure):
    _fields_ = [("AclRevision", ctypes.c_ubyte), ("Sbz1", ctypes.c_ubyte), ("AclSize", ctypes.c_ushort),
                ("AceCount", ctypes.c_ushort), ("Sbz2", ctypes.c_ushort)]


class ACE_HEADER_AND_MASK(ctypes.Structure):
    _fields_ = [("AceType", ctypes.c_ubyte), ("AceFlags", ctypes.c_ubyte), ("AceSize", ctypes.c_ushort),
                ("Mask", ctypes.c_uint32)]


def file_security(path: str) -> tuple[str, list[tuple[int, int, int, str]] | None]:
    """Owner SID and DACL entries (type, flags, access mask, SID or "") of a file or folder; None for a
    NULL DACL. The OS call the tests cannot run; what is decided from it is tested
    (vigie.config.policy_file.windows_write_problem)."""
    pointer = ctypes.POINTER(ctypes.c_void_p)
    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined]
    advapi32.GetNamedSecurityInfoW.argtypes = [ctypes.c_wchar_p, ctypes.c_int, ctypes.c_uint32] + [pointer] * 5
    advapi32.GetNamedSecurityInfoW.restype = ctypes.c_uint32
    advapi32.GetAce.argtypes = [ctypes.c_void_p, ctypes.c_uint32, pointer]
    advapi32.ConvertSidToStringSidW.argtypes = [ctypes.c_void_p, pointer]
    kernel32 = _kernel32()
    kernel32.LocalFree.argtypes = [ctypes.c_void_p]

    def sid_text(sid: int) -> str:
        text = ctypes.c_void_p()
        if not advapi32.ConvertSidToStringSidW(sid, ctypes.byref(text)):
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
        try:
            return ctypes.wstring_at(text.value)
        finally:
            kernel32.LocalFree(text)

    owner, dacl, descriptor = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
    error = advapi32.GetNamedSecurityInfoW(path, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                                           ctypes.byref(owner), None, ctypes.byref(dacl), None,
                                           ctypes.byref(descriptor))
    if error:
        raise ctypes.WinError(error)  # type: ignore[attr-defined]
    try:
        if not dacl.value:
            return sid_text(owner.value), None
        entries = []
        for index in range(ACL_HEADER.from_address(dacl.value).AceCount):
            ace = ctypes.c_void_p()
            if not advapi32.GetAce(dacl, index, ctypes.byref(ace)):
                raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
            header = ACE_HEADER_AND_MASK.from_address(ace.value)
            sid = sid_text(ace.value + 8) if header.AceType in SID_AFTER_MASK else ""
            entries.append((header.AceType, header.AceFlags, header.Mask, sid))
        return sid_text(owner.value), entries
    finally:
        kernel32.LocalFree(descriptor)


def read_network() -> NetworkState:
    routes = parsers.parse_windows_routes(_powershell(WINDOWS_DEFAULT_ROUTES, NETWORK_CHECK_TIMEOUT * 3))
    return windows_network_state(addressed_interfaces(), routes)


def windows_network_state(connected: Sequence[str], routes: Sequence[str]) -> NetworkState:
    """psutil and Get-NetRoute both name adapters by their alias (« Ethernet », « Wi-Fi »): the kind comes
    from it (pure: tested on Windows' default names)."""
    used = dict.fromkeys((*routes, *connected))
    return NetworkState(tuple(connected), tuple(routes),
                        tuple((name, parsers.windows_connection_kind(name)) for name in used))


def can_cut_network() -> bool:
    """Disable-NetAdapter needs an administrator: the guide offers its button only then."""
    return windows_is_admin()


def cut_network(timeout: float = NETWORK_TIMEOUT) -> str:
    if not windows_is_admin():
        raise NotSupported(T("Vigie does not have the right to turn off the network adapters on this computer."))
    _powershell(WINDOWS_DISABLE_ADAPTERS, timeout)
    return "Disable-NetAdapter"


def read_user_value(key_path: str, name: str) -> str | bytes | None:
    """A value under HKEY_CURRENT_USER (REG_SZ as str, REG_BINARY as bytes); None when absent."""
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key_path) as key:
            value, _kind = winreg.QueryValueEx(key, name)
    except FileNotFoundError:
        return None
    return bytes(value) if isinstance(value, bytes | bytearray) else str(value)


def read_machine_value(key_path: str, name: str) -> str | bytes | None:
    """A value under HKEY_LOCAL_MACHINE, in the 64-bit view (where the installer writes, whatever the
    bitness of the reader); None when absent."""
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key_path, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY) as key:
            value, _kind = winreg.QueryValueEx(key, name)
    except FileNotFoundError:
        return None
    return bytes(value) if isinstance(value, bytes | bytearray) else str(value)


def write_user_string(key_path: str, name: str, value: str) -> None:
    import winreg

    with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, key_path, 0, winreg.KEY_SET_VALUE) as key:
        winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)


def delete_user_value(key_path: str, name: str) -> bool:
    """False when there was nothing to delete."""
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key_path, 0, winreg.KEY_SET_VALUE) as key:
            winreg.DeleteValue(key, name)
    except FileNotFoundError:
        return False
    return True


def windows_updater() -> list[str]:
    """Settings › Windows Update: the explorer opens the ms-settings: link (no shell)."""
    windir = os.environ.get("SYSTEMROOT") or r"C:\Windows"  # os.environ's keys are upper case on Windows
    return [str(Path(windir) / "explorer.exe"), "ms-settings:windowsupdate"]


class WindowsPlatform:
    name = "windows"
    lock_shortcut = T("Windows + L")  # named in advice to lock by hand

    def __init__(self) -> None:
        self._mount_events: EventSource | None = None  # started by the first wait_for_mount_change()

    def lock_screen(self, locker_command: Sequence[str] = (), budget: float = LOCK_PROOF_SECONDS) -> LockProof:
        lock_workstation()  # asynchronous: the input desktop changes when the lock is there
        proof = await_proof(windows_lock_proof, budget)
        if proof is None:
            raise LockUnproven(T("Windows was asked to lock the session, but it did not lock."),
                               f"LockWorkStation: input desktop still the user's after {budget:g} s")
        return LockProof("LockWorkStation", proof)

    def lock_route(self, locker_command: Sequence[str] = ()) -> LockRoute:
        return LockRoute("LockWorkStation", "input desktop")

    def session_active(self) -> bool | None:
        try:
            return session_at_console(*session_ids())
        except (OSError, AttributeError, PlatformError) as exc:
            log.info("cannot tell whether this session is the one at the console: %s", exc)
            return None

    def mounted_volumes(self) -> list[Volume]:
        system = system_drive()
        volumes = []
        for letter in drive_letters(logical_drives_mask()):
            if letter == system:
                continue
            volume = self._volume(letter)
            if volume is not None:
                volumes.append(volume)
        return volumes

    @staticmethod
    def _volume(letter: str) -> Volume | None:
        """None for what is not a local disk, or a drive gone (or emptied) during the scan."""
        root = f"{letter}\\"
        kind = drive_type(root)
        if kind not in (DRIVE_REMOVABLE, DRIVE_FIXED):
            return None
        information = volume_information(root)
        if information is None:
            return None
        label, serial, fs_type = information
        removable = windows_removable(kind, storage_bus_type(letter))
        return Volume(letter, root, fs_type, label, format_volume_serial(serial), disk_total_bytes(root), removable)

    def wait_for_mount_change(self, timeout: float | None) -> bool:
        if self._mount_events is None:
            self._mount_events = EventSource(device_change_window, "vigie-device-change")
        return self._mount_events.wait(timeout)

    def eject(self, volume: Volume) -> None:
        shell_eject(volume.device)
        confirm_ejected(volume.device)

    def updater_command(self) -> list[str] | None:
        return windows_updater()

    def scanner_available(self) -> bool:
        return defender_command_line().is_file()

    def scan_volume(self, volume: Volume, timeout: float) -> ScanResult:
        return defender_scan(volume.device, timeout)

    def input_grabbed(self) -> bool | None:
        return None  # screen_locked() answers reliably here

    def on_unlock(self, callback: Callable[[], None]) -> None:
        """Not reported here: the idle watcher notices the return on its next look."""

    def idle_state(self) -> IdleState:
        last, now = last_input_ticks()
        return IdleState(idle_milliseconds(last, now) / 1000, source="GetLastInputInfo")

    def media_in_use(self) -> bool | None:
        return media_in_use_from_consent_store(consent_store_last_stops())

    def screen_locked(self) -> bool | None:
        return input_desktop_locked()

    def pending_updates(self, timeout: float) -> UpdateStatus:
        return UpdateStatus("windows_update", tuple(parsers.parse_wua_json(wua_search(timeout))))

    def system_backups(self, timeout: float) -> list[BackupRecord]:
        return [r for r in (file_history_backup(), wbadmin_backup(timeout)) if r is not None]

    def network_state(self) -> NetworkState:
        return read_network()

    def can_cut_network(self) -> bool:
        return can_cut_network()

    def cut_network(self, timeout: float) -> str:
        return cut_network(timeout)

    def smartcards(self, timeout: float) -> list[tuple[str, str]] | None:
        return pcsc.present_cards(timeout=timeout)  # PC/SC is the same API on every OS

    def lock_policy(self) -> LockPolicy:
        machine = registry_values("HKEY_LOCAL_MACHINE", POLICIES_SYSTEM, ("InactivityTimeoutSecs",))
        # The policy key wins over the user's own choice, value by value.
        saver = {**registry_values("HKEY_CURRENT_USER", DESKTOP_KEY, SCREENSAVER_VALUES),
                 **registry_values("HKEY_CURRENT_USER", DESKTOP_POLICY_KEY, SCREENSAVER_VALUES)}
        video = powercfg_indexes("SUB_VIDEO", "VIDEOIDLE")
        console = powercfg_indexes("SUB_NONE", "CONSOLELOCK")
        return windows_lock_policy(machine.get("InactivityTimeoutSecs"), saver, video, console)

    # --- Access checks (issue 20) ---------------------------------------------------------------
    def remote_access(self) -> RemoteAccessReport:
        return windows_remote_access()

    def sign_in(self) -> SignInState:
        return windows_sign_in()

    def wifi(self) -> WifiState:
        return windows_wifi()

    def installed_apps(self) -> InstalledApps:
        return InstalledApps(frozenset(name.lower() for name in uninstall_display_names()), ("uninstall",))
    # Protection checks (issue 20)
    def disk_encryption(self, folder: str | None, timeout: float) -> DiskEncryption:
        return windows_disk_encryption(folder, timeout)

    def antivirus_status(self, timeout: float) -> AntivirusStatus:
        return windows_antivirus(timeout)

    def firewall_status(self, timeout: float) -> FirewallStatus:
        return windows_firewall(timeout)

    def os_version(self) -> OsVersion:
        values = registry_values("HKEY_LOCAL_MACHINE", CURRENT_VERSION_KEY, CURRENT_VERSION_VALUES)
        return parsers.windows_os_version(values)


# --- Windows' own automatic lock (read for the lock_policy check) -----------------------------

POLICIES_SYSTEM = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System"  # "Machine inactivity limit"
DESKTOP_KEY = r"Control Panel\Desktop"
DESKTOP_POLICY_KEY = r"Software\Policies\Microsoft\Windows\Control Panel\Desktop"
SCREENSAVER_VALUES = ("ScreenSaveActive", "ScreenSaverIsSecure", "ScreenSaveTimeOut", "SCRNSAVE.EXE")


def registry_values(hive: str, path: str, names: Sequence[str]) -> dict[str, object]:
    """The values of one registry key that are set (REG_SZ as str, REG_DWORD as int)."""
    import winreg

    found: dict[str, object] = {}
    try:
        with winreg.OpenKey(getattr(winreg, hive), path) as key:
            for name in names:
                try:
                    found[name] = winreg.QueryValueEx(key, name)[0]
                except OSError:
                    continue  # this value is not set
    except OSError:
        pass  # no such key: nothing is set
    return found


def powercfg_query(switch: str, subgroup: str, setting: str) -> str:
    return proc.run(["powercfg", switch, "SCHEME_CURRENT", subgroup, setting], 10).stdout


def powercfg_indexes(subgroup: str, setting: str) -> tuple[int, int] | None:
    """(AC, DC) indexes of a power setting, None when unreadable. `/q` leaves out hidden settings
    (CONSOLELOCK is hidden on some PCs and prints only the scheme line); `/qh` lists them."""
    for switch in ("/q", "/qh"):
        try:
            indexes = parsers.parse_powercfg_indexes(powercfg_query(switch, subgroup, setting))
        except PlatformError:
            indexes = None
        if indexes is not None:
            return indexes
    return None


def registry_int(value: object) -> int | None:
    """A REG_DWORD, or a number stored as REG_SZ ("600"); None when absent or not a number."""
    try:
        return None if value is None else int(str(value).strip())
    except ValueError:
        return None


def screensaver_lock_seconds(values: dict[str, object]) -> int | None:
    """The screen saver locks only when it is on, asks for the password, has a timeout and a
    program: with no screen saver chosen ("None"), none runs whatever the other values say."""
    active = registry_int(values.get("ScreenSaveActive")) == 1
    secure = registry_int(values.get("ScreenSaverIsSecure")) == 1
    timeout = registry_int(values.get("ScreenSaveTimeOut")) or 0
    program = str(values.get("SCRNSAVE.EXE") or "").strip()
    return timeout if active and secure and timeout > 0 and program else None


def display_off_lock_seconds(video: tuple[int, int] | None, console: tuple[int, int] | None) -> int | None:
    """Plugged in (AC): the screen turns off after VIDEOIDLE seconds (0 = never) and sign-in is
    asked on wake when CONSOLELOCK is 1."""
    if video is None or console is None or video[0] == 0 or console[0] != 1:
        return None
    return video[0]


def windows_lock_policy(inactivity: object, saver: dict[str, object], video: tuple[int, int] | None,
                        console: tuple[int, int] | None) -> LockPolicy:
    """The earliest of the machine inactivity limit, a secure screen saver and display-off with
    sign-in on wake. ToolFailed when nothing locks and what could have was unreadable."""
    policy = registry_int(inactivity)
    found = [s for s in (policy, screensaver_lock_seconds(saver), display_off_lock_seconds(video, console)) if s]
    detail = (f"InactivityTimeoutSecs={policy}; screensaver="
              f"{','.join(f'{k}={v}' for k, v in sorted(saver.items())) or 'none'}; "
              f"VIDEOIDLE {_ac_dc(video)}; CONSOLELOCK {_ac_dc(console)}")
    if not found and (video is None or (video[0] > 0 and console is None)):
        raise ToolFailed(T("The automatic lock setting could not be read."), detail)
    return LockPolicy(min(found, default=None), "windows", detail)


def _ac_dc(indexes: tuple[int, int] | None) -> str:
    return "unreadable" if indexes is None else f"ac={indexes[0]} dc={indexes[1]}"


# --- USB drives --------------------------------------------------------------------------------

DRIVE_NO_ROOT_DIR, DRIVE_REMOVABLE, DRIVE_FIXED = 1, 2, 3
BUS_TYPE_USB = 7  # STORAGE_BUS_TYPE.BusTypeUsb
IOCTL_STORAGE_QUERY_PROPERTY = 0x002D1400
FILE_SHARE_READ, FILE_SHARE_WRITE, OPEN_EXISTING = 1, 2, 3
SEM_FAILCRITICALERRORS = 0x0001  # no "There is no disk in the drive" dialog for an empty reader
DRIVE_LETTER = re.compile(r"[A-Z]:")
EJECT_SCRIPT = "(New-Object -ComObject Shell.Application).Namespace(17).ParseName('{letter}').InvokeVerb('Eject')"


def drive_letters(mask: int) -> list[str]:
    """The letters set in a GetLogicalDrives bit mask (bit 0 is A:)."""
    return [f"{chr(ord('A') + bit)}:" for bit in range(26) if mask >> bit & 1]


def format_volume_serial(serial: int) -> str:
    """A volume serial as Windows shows it (`vol`): "D44E-9303", the same as Linux's FAT UUID."""
    serial &= 0xFFFFFFFF
    return f"{serial >> 16:04X}-{serial & 0xFFFF:04X}"


def windows_removable(drive_type_value: int, bus_type: int | None) -> bool:
    """USB hard disks and many USB SSDs say DRIVE_FIXED: the storage bus tells them apart."""
    return drive_type_value == DRIVE_REMOVABLE or bus_type == BUS_TYPE_USB


def system_drive() -> str:
    return os.environ.get("SYSTEMDRIVE", "C:").upper()


def _kernel32():
    # Its own WinDLL, so the argtypes set here do not change ctypes.windll.kernel32 for others.
    return ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]


def logical_drives_mask() -> int:
    return int(_kernel32().GetLogicalDrives())


def drive_type(root: str) -> int:
    kernel32 = _kernel32()
    kernel32.GetDriveTypeW.argtypes = [ctypes.c_wchar_p]
    kernel32.GetDriveTypeW.restype = ctypes.c_uint
    return int(kernel32.GetDriveTypeW(root))


def volume_information(root: str) -> tuple[str, int, str] | None:
    """(label, serial, file system name); None when the drive is gone or holds no medium."""
    from ctypes import wintypes

    kernel32 = _kernel32()
    label, fs_name = ctypes.create_unicode_buffer(261), ctypes.create_unicode_buffer(261)
    serial, max_length, flags = wintypes.DWORD(), wintypes.DWORD(), wintypes.DWORD()
    old_mode = wintypes.UINT()
    kernel32.SetThreadErrorMode(SEM_FAILCRITICALERRORS, ctypes.byref(old_mode))
    try:
        ok = kernel32.GetVolumeInformationW(ctypes.c_wchar_p(root), label, 261, ctypes.byref(serial),
                                            ctypes.byref(max_length), ctypes.byref(flags), fs_name, 261)
    finally:
        kernel32.SetThreadErrorMode(old_mode.value, None)
    return (label.value, serial.value, fs_name.value) if ok else None


def disk_total_bytes(root: str) -> int | None:
    total = ctypes.c_ulonglong()
    if not _kernel32().GetDiskFreeSpaceExW(ctypes.c_wchar_p(root), None, ctypes.byref(total), None):
        return None
    return total.value


class STORAGE_PROPERTY_QUERY(ctypes.Structure):
    _fields_ = [("PropertyId", ctypes.c_int), ("QueryType", ctypes.c_int), ("AdditionalParameters", ctypes.c_ubyte * 1)]


class STORAGE_DEVICE_DESCRIPTOR(ctypes.Structure):  # the header only
    _fields_ = [("Version", ctypes.c_uint32), ("Size", ctypes.c_uint32), ("DeviceType", ctypes.c_ubyte),
                ("DeviceTypeModifier", ctypes.c_ubyte), ("RemovableMedia", ctypes.c_ubyte),
                ("CommandQueueing", ctypes.c_ubyte), ("VendorIdOffset", ctypes.c_uint32),
                ("ProductIdOffset", ctypes.c_uint32), ("ProductRevisionOffset", ctypes.c_uint32),
                ("SerialNumberOffset", ctypes.c_uint32), ("BusType", ctypes.c_int),
                ("RawPropertiesLength", ctypes.c_uint32)]


def storage_bus_type(letter: str) -> int | None:
    """STORAGE_BUS_TYPE of the disk behind X: (IOCTL_STORAGE_QUERY_PROPERTY, StorageDeviceProperty);
    opened with no access right, which needs no administrator. None when it cannot be asked."""
    kernel32 = _kernel32()
    kernel32.CreateFileW.restype = ctypes.c_void_p
    kernel32.CreateFileW.argtypes = [ctypes.c_wchar_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p,
                                     ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p]
    kernel32.DeviceIoControl.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32,
                                         ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]
    kernel32.CloseHandle.argtypes = [ctypes.c_void_p]
    handle = kernel32.CreateFileW(f"\\\\.\\{letter}", 0, FILE_SHARE_READ | FILE_SHARE_WRITE, None,
                                  OPEN_EXISTING, 0, None)
    if handle is None or handle == ctypes.c_void_p(-1).value:
        return None
    try:
        query = STORAGE_PROPERTY_QUERY(0, 0)  # StorageDeviceProperty, PropertyStandardQuery
        buffer = ctypes.create_string_buffer(1024)  # room for the vendor/product strings that follow
        returned = ctypes.c_uint32()
        ok = kernel32.DeviceIoControl(handle, IOCTL_STORAGE_QUERY_PROPERTY, ctypes.byref(query),
                                      ctypes.sizeof(query), buffer, ctypes.sizeof(buffer), ctypes.byref(returned), None)
        enough = returned.value >= STORAGE_DEVICE_DESCRIPTOR.RawPropertiesLength.offset  # BusType was filled in
        return int(STORAGE_DEVICE_DESCRIPTOR.from_buffer(buffer).BusType) if ok and enough else None
    finally:
        kernel32.CloseHandle(handle)


def shell_eject(letter: str) -> None:
    """Explorer's own "Eject" on the drive. The letter is checked first: nothing else is ever put
    in the script."""
    if not DRIVE_LETTER.fullmatch(letter):
        raise ToolFailed(T("The program {tool} could not be started.", tool="powershell.exe"),
                         f"not a drive letter: {letter!r}")
    argv = ["powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
            "-Command", EJECT_SCRIPT.format(letter=letter)]
    proc.run(argv, 60)


def defender_command_line() -> Path:
    return Path(os.environ.get("PROGRAMFILES", r"C:\Program Files")) / "Windows Defender" / "MpCmdRun.exe"


def defender_scan(drive: str, timeout: float) -> ScanResult:
    """Microsoft Defender, custom scan of the drive. Only its explicit answer counts ("Scanning E:\\
    found no threats." / "found 2 threats."): it exits 2 for threats, but also when the scan failed
    or Defender is switched off. The threats themselves are listed in Windows Security."""
    if not re.fullmatch("[A-Z]:", drive):
        raise ToolFailed(T("The program {tool} could not be started.", tool="MpCmdRun.exe"), f"bad drive {drive!r}")
    argv = [str(defender_command_line()), "-Scan", "-ScanType", "3", "-File", drive + "\\", "-DisableRemediation"]
    result = proc.run(argv, timeout, ok_codes=(0, 2))
    threats = parsers.parse_mpcmdrun_scan(result.stdout, drive + "\\")
    if threats is None or (threats > 0) != (result.returncode == 2):
        last = result.stdout.strip().splitlines()[-1:]  # "CmdTool: Failed with hr = 0x…", not file names
        raise ToolFailed(T("Microsoft Defender gave no result for the drive."), f"exit {result.returncode}: {last}")
    return ScanResult("Microsoft Defender", ("Windows Security",) * threats)


EJECT_CONFIRM_SECONDS = 5.0  # Explorer's "Eject" returns at once; the letter goes when it is done
EJECT_POLL_SECONDS = 0.2


def confirm_ejected(letter: str) -> None:
    """Wait (bounded) for the drive letter to leave GetLogicalDrives(): Explorer's verb says nothing
    when a program still holds a file open on the drive, the drive just stays."""
    deadline = time.monotonic() + EJECT_CONFIRM_SECONDS
    while True:
        try:
            present = letter in drive_letters(logical_drives_mask())
        except (OSError, AttributeError) as exc:  # no drive list (VIGIE_PLATFORM=windows elsewhere)
            log.warning("cannot confirm the eject of %s: %s", letter, exc)
            return
        if not present:
            return
        if time.monotonic() >= deadline:
            raise ToolFailed(T("The drive {drive} is still in use: close the documents and windows open on it, "
                               "then eject it again.", drive=letter), f"{letter} still listed after the Eject verb")
        time.sleep(EJECT_POLL_SECONDS)


# --- USB insertion events -----------------------------------------------------------------------
# WM_DEVICECHANGE to a hidden top-level window rather than CM_Register_Notification: the volume
# broadcast (DBT_DEVTYP_VOLUME) is sent once the drive letter exists, so the volume list read right
# after it holds the new drive; a volume-interface arrival from CM_Register_Notification comes
# before the letter is assigned. Broadcasts only reach top-level windows: not HWND_MESSAGE.

WM_DEVICECHANGE = 0x0219
_WINDOW_CLASSES = itertools.count(1)
DBT_DEVICEARRIVAL, DBT_DEVICEREMOVECOMPLETE = 0x8000, 0x8004
DBT_DEVTYP_VOLUME = 2


class DEV_BROADCAST_HDR(ctypes.Structure):
    _fields_ = [("dbch_size", ctypes.c_uint32), ("dbch_devicetype", ctypes.c_uint32),
                ("dbch_reserved", ctypes.c_uint32)]


class DEV_BROADCAST_VOLUME(ctypes.Structure):
    _fields_ = [("dbcv_size", ctypes.c_uint32), ("dbcv_devicetype", ctypes.c_uint32),
                ("dbcv_reserved", ctypes.c_uint32), ("dbcv_unitmask", ctypes.c_uint32),
                ("dbcv_flags", ctypes.c_uint16)]


def volume_change_letters(event: int, lparam: int) -> list[str] | None:
    """The drive letters a WM_DEVICECHANGE (wParam `event`, lParam the DEV_BROADCAST_* address)
    reports arriving or removed; None for every other device event (ports, interfaces, queries)."""
    if event not in (DBT_DEVICEARRIVAL, DBT_DEVICEREMOVECOMPLETE) or not lparam:
        return None
    header = DEV_BROADCAST_HDR.from_address(lparam)
    if header.dbch_devicetype != DBT_DEVTYP_VOLUME or header.dbch_size < DEV_BROADCAST_VOLUME.dbcv_flags.offset:
        return None
    return drive_letters(DEV_BROADCAST_VOLUME.from_address(lparam).dbcv_unitmask)


def device_change_handler(on_change: Callable[[], None]) -> Callable[[int, int, int], None]:
    """What the window procedure does with each message (message, wParam, lParam)."""

    def handle(message: int, wparam: int, lparam: int) -> None:
        if message == WM_DEVICECHANGE:
            letters = volume_change_letters(wparam, lparam)
            if letters is not None:
                log.debug("volume %s: %s", "arrival" if wparam == DBT_DEVICEARRIVAL else "removal", letters)
                on_change()

    return handle


def device_change_window(on_change: Callable[[], None], ready: Callable[[], None]) -> None:
    """A hidden top-level window and its message loop on this thread: returns (or raises) only
    when it cannot run, and the volume watch then polls."""
    from ctypes import wintypes

    user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32 = _kernel32()
    lresult, wparam_t, lparam_t = ctypes.c_ssize_t, ctypes.c_size_t, ctypes.c_ssize_t  # pointer-sized
    wndproc_t = ctypes.WINFUNCTYPE(lresult, wintypes.HWND, wintypes.UINT, wparam_t, lparam_t)  # type: ignore[attr-defined]

    class WNDCLASSW(ctypes.Structure):
        _fields_ = [("style", wintypes.UINT), ("lpfnWndProc", wndproc_t), ("cbClsExtra", ctypes.c_int),
                    ("cbWndExtra", ctypes.c_int), ("hInstance", wintypes.HINSTANCE), ("hIcon", wintypes.HICON),
                    ("hCursor", wintypes.HANDLE), ("hbrBackground", wintypes.HBRUSH),
                    ("lpszMenuName", wintypes.LPCWSTR), ("lpszClassName", wintypes.LPCWSTR)]

    user32.DefWindowProcW.argtypes = [wintypes.HWND, wintypes.UINT, wparam_t, lparam_t]
    user32.DefWindowProcW.restype = lresult
    user32.RegisterClassW.argtypes = [ctypes.POINTER(WNDCLASSW)]
    user32.RegisterClassW.restype = wintypes.ATOM
    user32.CreateWindowExW.argtypes = [wintypes.DWORD, wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.DWORD,
                                       ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, wintypes.HWND,
                                       wintypes.HMENU, wintypes.HINSTANCE, wintypes.LPVOID]
    user32.CreateWindowExW.restype = wintypes.HWND
    user32.GetMessageW.argtypes = [ctypes.POINTER(wintypes.MSG), wintypes.HWND, wintypes.UINT, wintypes.UINT]
    user32.GetMessageW.restype = wintypes.BOOL  # -1 on error, 0 on WM_QUIT
    user32.TranslateMessage.argtypes = [ctypes.POINTER(wintypes.MSG)]
    user32.DispatchMessageW.argtypes = [ctypes.POINTER(wintypes.MSG)]
    user32.DispatchMessageW.restype = lresult
    user32.DestroyWindow.argtypes = [wintypes.HWND]
    user32.UnregisterClassW.argtypes = [wintypes.LPCWSTR, wintypes.HINSTANCE]
    kernel32.GetModuleHandleW.argtypes = [wintypes.LPCWSTR]
    kernel32.GetModuleHandleW.restype = wintypes.HMODULE

    handle = device_change_handler(on_change)

    def procedure(hwnd, message, wparam, lparam):  # an exception must not escape into user32
        try:
            handle(message, wparam, lparam)
        except Exception:
            log.exception("device change message")
        return user32.DefWindowProcW(hwnd, message, wparam, lparam)

    callback = wndproc_t(procedure)  # kept alive by this frame: the window goes before it does
    instance = kernel32.GetModuleHandleW(None)
    class_name = f"VigieDeviceChange{next(_WINDOW_CLASSES)}"  # never reused: each window its own procedure
    window_class = WNDCLASSW(lpfnWndProc=callback, hInstance=instance, lpszClassName=class_name)
    if not user32.RegisterClassW(ctypes.byref(window_class)):
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
    try:
        # Style 0, never shown: hidden, yet top-level (no parent), so broadcasts reach it.
        hwnd = user32.CreateWindowExW(0, class_name, "Vigie", 0, 0, 0, 0, 0, None, None, instance, None)
        if not hwnd:
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
        try:
            ready()
            message = wintypes.MSG()
            while (status := user32.GetMessageW(ctypes.byref(message), None, 0, 0)) > 0:
                user32.TranslateMessage(ctypes.byref(message))
                user32.DispatchMessageW(ctypes.byref(message))
            raise OSError(f"GetMessageW returned {status} (error {ctypes.get_last_error()})")
        finally:
            user32.DestroyWindow(hwnd)  # no message may reach `procedure` once this frame is gone
    finally:
        user32.UnregisterClassW(class_name, instance)


# --- Windows' own backup tools -------------------------------------------------------------------

FILE_HISTORY_KEY = r"Software\Microsoft\Windows\CurrentVersion\FileHistory"
FILE_HISTORY_DISAGREEMENT_SECONDS = 24 * 3600  # more than a day apart (cycles are hourly by default)
# wbadmin's exit code says nothing the output does not: its text decides.
ANY_EXIT_CODE = range(-(2**31), 2**32)


def file_history_folder() -> Path:
    local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    return Path(local) / "Microsoft" / "Windows" / "FileHistory" / "Configuration"


def file_history_config() -> bytes | None:
    """Config1.xml (Config2.xml is its mirror); None when File History was never set up."""
    try:
        return (file_history_folder() / "Config1.xml").read_bytes()
    except FileNotFoundError:
        return None


def file_history_catalog_time() -> datetime | None:
    """When File History last wrote its catalogue (Catalog1.edb), the end of its last cycle."""
    try:
        return datetime.fromtimestamp((file_history_folder() / "Catalog1.edb").stat().st_mtime, UTC)
    except OSError:
        return None


def file_history_protected_until() -> datetime | None:
    values = registry_values("HKEY_CURRENT_USER", FILE_HISTORY_KEY, ("ProtectedUpToTime",))
    return parsers.filetime_to_datetime(values.get("ProtectedUpToTime"))


def file_history_last_backup(protected_until: datetime | None, catalog_time: datetime | None) -> datetime | None:
    """ProtectedUpToTime is what File History itself calls "protected up to" (the start of the
    last complete cycle), so it wins. It reads 0 between cycles on some PCs: then the catalogue's
    time stands in. A large gap is logged: cycles that run but do not complete show up there."""
    if protected_until is not None and catalog_time is not None \
            and abs((catalog_time - protected_until).total_seconds()) > FILE_HISTORY_DISAGREEMENT_SECONDS:
        log.info("File History: ProtectedUpToTime %s, catalogue written %s", protected_until.isoformat(),
                 catalog_time.isoformat())
    return protected_until or catalog_time


def file_history_backup() -> BackupRecord | None:
    """None when File History was never set up or is turned off."""
    try:
        config = file_history_config()
        if config is None:
            return None
        enabled, target = parsers.parse_file_history_config(config)
    except (OSError, ValueError) as exc:
        log.warning("File History settings unreadable: %s", exc)
        return BackupRecord("file_history", None, error=T("The File History settings could not be read."))
    if not enabled:
        return None
    return BackupRecord("file_history", file_history_last_backup(file_history_protected_until(),
                                                                  file_history_catalog_time()), target)


def is_user_an_admin() -> bool:
    """An elevated process (wbadmin answers nothing else)."""
    try:
        return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return False


def wbadmin_versions(timeout: float) -> str:
    result = proc.run(["wbadmin", "get", "versions"], timeout, ok_codes=ANY_EXIT_CODE)
    return result.stdout + "\n" + result.stderr


def wbadmin_backup(timeout: float) -> BackupRecord | None:
    """Windows Server Backup / "Backup and Restore (Windows 7)". It needs an elevated process, which
    Vigie normally is not: it is asked only when it is. None when it lists no backup."""
    if not is_user_an_admin():
        return None
    try:
        newest = parsers.parse_wbadmin_versions(wbadmin_versions(timeout))
    except ToolMissing:
        return None
    except PlatformError as exc:
        return BackupRecord("wbadmin", None, error=exc.reason)
    return None if newest is None else BackupRecord("wbadmin", newest[0], newest[1])


# --- Access checks (issue 20) ---------------------------------------------------------------------

TERMINAL_SERVER_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server"
WINLOGON_KEY = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon"
SERVICES_KEY = r"HKLM\SYSTEM\CurrentControlSet\Services"
SERVICE_DISABLED = 4  # the service's Start value
# Remote-control services, by their Windows service name. Only their presence is read: no genuine
# sample of their unattended-access settings was available.
REMOTE_SERVICES = {"AnyDesk": "anydesk", "TeamViewer": "teamviewer"}
UNINSTALL_KEY = r"Software\Microsoft\Windows\CurrentVersion\Uninstall"


def reg_query(key: str, timeout: float = 10.0) -> str | None:
    """`reg query KEY`: its values as text (value names and types are never translated); None when
    the key does not exist (reg exits with 1)."""
    result = proc.run(["reg", "query", key], timeout, ok_codes=(0, 1))
    return result.stdout if result.returncode == 0 else None


def net_share(timeout: float = 15.0) -> str:
    return proc.run(["net", "share"], timeout).stdout


def listening_sockets() -> list[tuple[str, int, str | None]]:
    import psutil

    sockets = []
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status != psutil.CONN_LISTEN or not connection.laddr:
            continue
        try:
            program = psutil.Process(connection.pid).name() if connection.pid else None
        except psutil.Error:
            program = None
        sockets.append((connection.laddr.ip, connection.laddr.port, program))
    return sockets


def rdp_access() -> list[RemoteAccess]:
    values = parsers.parse_reg_query(reg_query(TERMINAL_SERVER_KEY) or "")
    return [RemoteAccess("rdp", "fDenyTSConnections=0")] if parsers.rdp_enabled(values) else []


def remote_services() -> list[RemoteAccess]:
    found = []
    for service, kind in REMOTE_SERVICES.items():
        text = reg_query(f"{SERVICES_KEY}\\{service}")
        if text is not None and parsers.parse_reg_query(text).get("Start") != SERVICE_DISABLED:
            found.append(RemoteAccess(kind, f"service {service}"))
    return found


def shared_folders() -> list[RemoteAccess]:
    return [RemoteAccess("file_sharing", f"share {name}") for name in parsers.user_shares(
        parsers.parse_net_share(net_share()))]


def socket_access() -> list[RemoteAccess]:
    # Port 445 always listens on Windows (the Server service) and 3389 follows fDenyTSConnections:
    # shares and Remote Desktop are read from net share and the registry instead.
    return [RemoteAccess(kind, detail) for kind, detail in parsers.remote_listeners(
        listening_sockets(), ignore=("rdp", "file_sharing"))]


def windows_remote_access() -> RemoteAccessReport:
    import psutil

    found: list[RemoteAccess] = []
    unreadable: list[str] = []
    for what, read in (("Remote Desktop", rdp_access), ("listening sockets", socket_access),
                       ("services", remote_services), ("shares", shared_folders)):
        try:
            found += read()
        except (PlatformError, ValueError, OSError, psutil.Error) as exc:
            unreadable.append(f"{what}: {exc}")
    return RemoteAccessReport(tuple(found), tuple(unreadable))


TOKEN_QUERY = 0x0008
TOKEN_ELEVATION_TYPE = 18  # TOKEN_INFORMATION_CLASS TokenElevationType
ELEVATION_FULL, ELEVATION_LIMITED = 2, 3


def token_is_admin() -> bool:
    """The signed-in account is an administrator, elevated now or not: with UAC an administrator's
    process has a "limited" token (elevation type 3) that IsUserAnAdmin() alone would call standard."""
    from ctypes import wintypes

    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32 = _kernel32()
    # Declared, or a 64-bit handle (GetCurrentProcess() is -1) is passed as a C int: ArgumentError.
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    advapi32.OpenProcessToken.argtypes = [wintypes.HANDLE, wintypes.DWORD, ctypes.POINTER(wintypes.HANDLE)]
    advapi32.GetTokenInformation.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD,
                                             ctypes.POINTER(wintypes.DWORD)]
    token = wintypes.HANDLE()
    if not advapi32.OpenProcessToken(kernel32.GetCurrentProcess(), TOKEN_QUERY, ctypes.byref(token)):
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
    try:
        kind, size = ctypes.c_int(), wintypes.DWORD()
        if advapi32.GetTokenInformation(token, TOKEN_ELEVATION_TYPE, ctypes.byref(kind), ctypes.sizeof(kind),
                                        ctypes.byref(size)) and kind.value in (ELEVATION_FULL, ELEVATION_LIMITED):
            return True
    finally:
        kernel32.CloseHandle(token)
    return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]  # UAC off, or standard


def windows_sign_in() -> SignInState:
    import getpass

    unreadable: list[str] = []
    auto_login_read = True
    try:
        auto_user = parsers.winlogon_auto_login(parsers.parse_reg_query(reg_query(WINLOGON_KEY) or ""))
    except (PlatformError, ValueError) as exc:
        auto_user, auto_login_read = None, False
        unreadable.append(f"Winlogon: {exc}")
    console = powercfg_indexes("SUB_NONE", "CONSOLELOCK")  # "require a password on wake-up" (AC, DC)
    if console is None:
        unreadable.append("CONSOLELOCK: not readable")
    user, admin = getpass.getuser(), None
    if user.endswith("$"):  # SYSTEM (an IT provider's tool) is the computer's account, not the daily one
        unreadable.append("token: running as the computer's account, not as the daily account")
    else:
        try:
            admin = token_is_admin()
        except (OSError, AttributeError) as exc:
            unreadable.append(f"token: {exc}")
    wake = None if console is None else console == (1, 1)
    return SignInState(user, auto_user, "winlogon" if auto_user is not None else "", wake, admin,
                       tuple(unreadable), auto_login_read)


def netsh_wlan_interfaces(timeout: float = 15.0) -> str:
    """Exit code 1 when the WLAN AutoConfig service is not running: then no Wi-Fi can be in use."""
    return proc.run(["netsh", "wlan", "show", "interfaces"], timeout, ok_codes=(0, 1)).stdout


def windows_wifi() -> WifiState:
    connected = [i for i in parsers.parse_netsh_wlan_interfaces(netsh_wlan_interfaces()) if i["ssid"]]
    if not connected:
        return WifiState(False, "netsh")
    weakest = min(connected, key=lambda i: WIFI_STRENGTH.get(parsers.wifi_level(i["auth"], i["cipher"]), 0))
    security = f"{weakest['auth']} / {weakest['cipher']}".strip(" /")
    return WifiState(True, "netsh", weakest["ssid"], security, parsers.wifi_level(weakest["auth"], weakest["cipher"]))


WIFI_STRENGTH = {"unknown": 0, "open": 1, "wep": 2, "wpa1": 3, "owe": 4, "wpa2": 5, "wpa3": 6}


def uninstall_display_names() -> list[str]:
    """DisplayName of every program in the uninstall lists (machine 64- and 32-bit, and the user's)."""
    import winreg

    names = []
    for hive, path in ((winreg.HKEY_LOCAL_MACHINE, UNINSTALL_KEY),
                       (winreg.HKEY_LOCAL_MACHINE, UNINSTALL_KEY.replace("Software\\", "Software\\WOW6432Node\\", 1)),
                       (winreg.HKEY_CURRENT_USER, UNINSTALL_KEY)):
        try:
            with winreg.OpenKey(hive, path) as key:
                for index in range(winreg.QueryInfoKey(key)[0]):
                    try:
                        with winreg.OpenKey(key, winreg.EnumKey(key, index)) as program:
                            names.append(str(winreg.QueryValueEx(program, "DisplayName")[0]))
                    except OSError:
                        continue  # no DisplayName: an update or a component, not a program
        except OSError:
            continue
    return names

# --- Protection checks (issue 20) ----------------------------------------------------------------
# BitLocker through manage-bde (its text is localised: English and French are read, any other
# language is "unknown"); Defender and Security Center, and the firewall profiles, through
# PowerShell objects whose property names and True/False are never translated.

PROTECTION_TIMEOUT = 60.0  # PowerShell's first start on a busy PC can take many seconds
UTF8_OUTPUT = "[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; "  # product names may be Chinese...
DEFENDER_STATUS = (UTF8_OUTPUT + "Get-MpComputerStatus | Format-List AMRunningMode,AMServiceEnabled,"
                   "RealTimeProtectionEnabled,AntivirusSignatureAge,DefenderSignaturesOutOfDate,IsTamperProtected")
SECURITY_CENTER_ANTIVIRUS = (UTF8_OUTPUT + "Get-CimInstance -Namespace root/SecurityCenter2 "
                             "-ClassName AntiVirusProduct | Format-List displayName,productState")
FIREWALL_PROFILES = (UTF8_OUTPUT + "Get-NetFirewallProfile -PolicyStore ActiveStore "
                     "| Format-Table -AutoSize Name,Enabled")
DEFENDER_NAMES = {"windows defender", "microsoft defender", "microsoft defender antivirus"}
CURRENT_VERSION_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
CURRENT_VERSION_VALUES = ("ProductName", "DisplayVersion", "ReleaseId", "CurrentBuild", "CurrentBuildNumber",
                          "EditionID")
BITLOCKER_NEEDS_ADMIN = T("Only an administrator can read the BitLocker state: ask your IT provider to run "
                          "“vigie check” as administrator (their RMM tool can).")


def manage_bde_status(drive: str, timeout: float) -> str:
    return proc.run(["manage-bde", "-status", drive], timeout).stdout


def folder_drive(folder: str | None) -> str | None:
    """The drive letter holding folder ("C:"); None for a network share (\\\\server\\share)."""
    if folder is None:
        return system_drive()
    drive = os.path.splitdrive(folder)[0].upper()
    return drive if DRIVE_LETTER.fullmatch(drive) else None


def windows_disk_encryption(folder: str | None, timeout: float = PROTECTION_TIMEOUT) -> DiskEncryption:
    drive = folder_drive(folder)
    if drive is None:
        return DiskEncryption(ENCRYPTION_UNKNOWN, "", folder or "", "a network folder: no local drive to look at")
    try:
        return parsers.parse_manage_bde(manage_bde_status(drive, timeout), drive)
    except ToolFailed as exc:  # "An attempt to access a required resource was denied" (not elevated)
        raise NotSupported(BITLOCKER_NEEDS_ADMIN, exc.log_detail) from exc


def windows_antivirus(timeout: float = PROTECTION_TIMEOUT) -> AntivirusStatus:
    """Defender while it is the active antivirus; else what Security Center lists (a third-party
    product registers there and Defender steps aside). Windows Server has no Security Center."""
    defender, failures = None, []
    try:
        records = parsers.parse_ps_list(_powershell(DEFENDER_STATUS, timeout))
        defender = parsers.defender_product(records[0]) if records else None
    except PlatformError as exc:
        failures.append(f"Get-MpComputerStatus: {exc.log_detail or exc}")
    if defender is not None and defender.enabled:
        return AntivirusStatus("defender", (defender,), defender.detail)
    try:
        listed = parsers.parse_ps_list(_powershell(SECURITY_CENTER_ANTIVIRUS, timeout))
        products = parsers.security_center_products(listed)
    except PlatformError as exc:
        failures.append(f"SecurityCenter2: {exc.log_detail or exc}")
        products = None
    others = [p for p in products or () if p.name.strip().lower() not in DEFENDER_NAMES]
    if any(p.enabled for p in others):
        return AntivirusStatus("security_center", tuple(others), "; ".join(f"{p.name}: {p.detail}" for p in others))
    if defender is not None:
        return AntivirusStatus("defender", (defender, *others), defender.detail)
    if products is not None:
        return AntivirusStatus("security_center" if products else "none", tuple(products))
    raise ToolFailed(T("The state of the antivirus could not be read."), "; ".join(failures))


def netsh_firewall_profiles(timeout: float) -> str:
    """Localised text (English and French are read): only when Get-NetFirewallProfile cannot answer."""
    return proc.run(["netsh", "advfirewall", "show", "allprofiles"], timeout).stdout


def windows_firewall(timeout: float = PROTECTION_TIMEOUT) -> FirewallStatus:
    try:
        profiles = parsers.firewall_profiles_windows(_powershell(FIREWALL_PROFILES, timeout))
        if profiles:
            return FirewallStatus("windows", tuple(profiles), "Get-NetFirewallProfile")
    except PlatformError as exc:
        log.warning("Get-NetFirewallProfile failed, asking netsh: %s", exc)
    text = netsh_firewall_profiles(timeout)
    profiles = parsers.parse_netsh_profiles(text)
    if not profiles:
        raise ToolFailed(T("The state of the firewall could not be read."), "netsh output not understood: "
                         + text.strip()[:200])
    return FirewallStatus("netsh", tuple(profiles), "netsh advfirewall show allprofiles")
