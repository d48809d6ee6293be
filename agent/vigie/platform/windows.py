"""Windows: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import base64
import ctypes
from collections.abc import Sequence

from vigie.model import T
from vigie.platform import parsers, proc
from vigie.platform.base import Capability, ToolFailed, UpdateStatus

DESKTOP_SWITCHDESKTOP = 0x0100

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
        return frozenset({Capability.PENDING_UPDATES, Capability.LOCK_SCREEN})

    def lock_screen(self, locker_command: Sequence[str] = ()) -> str:
        lock_workstation()
        return "LockWorkStation"

    def screen_locked(self) -> bool | None:
        return input_desktop_locked()

    def pending_updates(self, timeout: float) -> UpdateStatus:
        return UpdateStatus("windows_update", tuple(parsers.parse_wua_json(wua_search(timeout))))
