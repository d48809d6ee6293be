"""Windows: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import base64

from vigie.platform import parsers, proc
from vigie.platform.base import Capability, UpdateStatus

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


class WindowsPlatform:
    name = "windows"

    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.PENDING_UPDATES})

    def pending_updates(self, timeout: float) -> UpdateStatus:
        return UpdateStatus("windows_update", tuple(parsers.parse_wua_json(wua_search(timeout))))
