"""Windows: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import base64
import ctypes
from collections.abc import Callable, Sequence

from vigie.model import T
from vigie.platform import parsers, proc
from vigie.platform.base import Capability, IdleState, LockPolicy, PlatformError, ToolFailed, UpdateStatus

DESKTOP_SWITCHDESKTOP = 0x0100
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
    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    desktop = user32.OpenInputDesktop(0, False, DESKTOP_SWITCHDESKTOP)
    if not desktop:
        return True
    try:
        return not user32.SwitchDesktop(desktop)
    finally:
        user32.CloseDesktop(desktop)


class WindowsPlatform:
    name = "windows"

    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.PENDING_UPDATES, Capability.LOCK_SCREEN, Capability.IDLE_TIME})

    def lock_screen(self, locker_command: Sequence[str] = ()) -> str:
        lock_workstation()
        return "LockWorkStation"

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

    def lock_policy(self) -> LockPolicy:
        machine = registry_values("HKEY_LOCAL_MACHINE", POLICIES_SYSTEM, ("InactivityTimeoutSecs",))
        # The policy key wins over the user's own choice, value by value.
        saver = {**registry_values("HKEY_CURRENT_USER", DESKTOP_KEY, SCREENSAVER_VALUES),
                 **registry_values("HKEY_CURRENT_USER", DESKTOP_POLICY_KEY, SCREENSAVER_VALUES)}
        video = powercfg_indexes("SUB_VIDEO", "VIDEOIDLE")
        console = powercfg_indexes("SUB_NONE", "CONSOLELOCK")
        return windows_lock_policy(machine.get("InactivityTimeoutSecs"), saver, video, console)


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
