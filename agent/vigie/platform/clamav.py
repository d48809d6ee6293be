"""ClamAV's clamscan, on Linux and macOS: a scan is only offered when a virus database exists.

Only clamscan's own summary is an answer, and only for what it says it read: ClamAV silently skips
what is below 15 folder levels, and files it no longer finds (a drive pulled out mid-scan), so
Vigie counts the files itself and compares.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime
from pathlib import Path

from vigie.model import T
from vigie.platform import parsers, proc
from vigie.platform.base import AntivirusProduct, AntivirusStatus, ScanResult, ToolFailed, Volume

log = logging.getLogger(__name__)

DATABASE_DIRS = (Path("/var/lib/clamav"), Path("/usr/local/var/lib/clamav"), Path("/opt/homebrew/var/lib/clamav"))
DATABASE_SUFFIXES = {".cvd", ".cld", ".cud", ".hdb", ".hsb", ".ndb", ".ldb", ".mdb", ".msb", ".cdb"}


def clamscan_available() -> bool:
    """clamscan without a database only fails: offer the scan when both are there."""
    if shutil.which("clamscan") is None:
        return False
    return any(path.suffix in DATABASE_SUFFIXES for directory in DATABASE_DIRS if directory.is_dir()
               for path in directory.iterdir())


def clamscan(volume: Volume, timeout: float) -> ScanResult:
    # Exit codes: 0 nothing found, 1 something found, 2 errors (some files or folders unreadable).
    result = proc.run(["clamscan", "-r", "--infected", "--alert-exceeds-max=yes", "--", volume.mount_point],
                      timeout, ok_codes=(0, 1, 2))
    report = parsers.parse_clamscan(result.stdout, volume.mount_point)
    detail = (f"exit {result.returncode}, signatures {report.known_viruses}, scanned {report.scanned_files}, "
              f"errors {report.errors}: {result.stderr.strip()[-300:]!r}")  # no file names in the log
    if report.scanned_files is None:
        raise ToolFailed(T("ClamAV gave no result."), detail)
    if not report.known_viruses:
        raise ToolFailed(T("ClamAV has no virus signatures to look for."), detail)
    if result.returncode == 2 and not report.errors:
        raise ToolFailed(T("The program {tool} failed (code {code}).", tool="clamscan", code=2), detail)
    files = files_to_scan(volume.mount_point)  # afterwards: a drive that hangs is left to clamscan's timeout
    if files and not report.scanned_files and not report.errors:
        raise ToolFailed(T("ClamAV read none of the files on the drive."), f"{files} files there; {detail}")
    skipped = max(0, files - report.scanned_files - report.errors)  # not read, not said
    return ScanResult("ClamAV", tuple(report.findings), unread=report.errors + len(report.limits) + skipped)


def files_to_scan(root: str) -> int:
    """What clamscan counts as "Scanned files": regular files that are not empty, links not followed.
    A folder that cannot be listed is left out: clamscan counts it among its own errors."""
    count, folders = 0, [root]
    while folders:  # a loop, not recursion: a drive may hold folders thousands of levels deep
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            folders.append(entry.path)
                        elif entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_size:
                            count += 1
                    except OSError:
                        continue
        except OSError:
            continue
    return count


# --- Protection checks (issue 20): how old is the virus list? ----------------------------------
# Read from the databases' own headers (their build time), never from the files' dates: a copy or
# a restore changes those. freshclam is never run: Vigie goes nowhere on the network.

FRESHCLAM_CONFIGS = (Path("/etc/clamav/freshclam.conf"), Path("/etc/freshclam.conf"),
                     Path("/usr/local/etc/freshclam.conf"), Path("/opt/homebrew/etc/clamav/freshclam.conf"))
HEADER_SUFFIXES = {".cvd", ".cld", ".cud"}  # the signed (or unsigned) containers, with a header


def clamav_installed() -> bool:
    return any(shutil.which(tool) for tool in ("clamscan", "clamdscan", "clamd"))


def database_dirs() -> list[Path]:
    """freshclam's DatabaseDirectory when set, then the usual places."""
    configured = []
    for config in FRESHCLAM_CONFIGS:
        try:
            lines = config.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        configured += [Path(line.split(None, 1)[1].strip()) for line in lines
                       if line.strip().startswith("DatabaseDirectory") and len(line.split(None, 1)) == 2]
    return list(dict.fromkeys([*configured, *DATABASE_DIRS]))


def database_headers(directories: list[Path]) -> list[tuple[str, datetime, int]]:
    """(file name, build time, version) of every database container found."""
    found = []
    for directory in directories:
        try:
            paths = sorted(p for p in directory.iterdir() if p.suffix in HEADER_SUFFIXES)
        except OSError:
            continue
        for path in paths:
            try:
                with open(path, "rb") as handle:
                    built, version, _ = parsers.parse_cvd_header(handle.read(512))
            except (OSError, ValueError) as exc:
                log.warning("ClamAV database %s unreadable: %s", path.name, exc)
                continue
            found.append((path.name, built, version))
    return found


def signature_status() -> AntivirusStatus:
    """ClamAV and the build time of its newest "daily" list (the one updated several times a
    day), else of its newest list; "none" when ClamAV is not installed."""
    if not clamav_installed():
        return AntivirusStatus("none", detail="no clamscan, clamdscan or clamd")
    headers = database_headers(database_dirs())
    daily = [h for h in headers if h[0].startswith("daily.")] or headers
    if not daily:
        return AntivirusStatus("clamav", (AntivirusProduct("ClamAV", None, False, detail="no virus database"),),
                               "no .cvd/.cld/.cud in " + ", ".join(str(d) for d in database_dirs()))
    name, built, version = max(daily, key=lambda h: h[1])
    product = AntivirusProduct("ClamAV", None, None, signatures_date=built, detail=f"{name} version {version}")
    return AntivirusStatus("clamav", (product,), f"{name} version {version} built {built.isoformat()}")
