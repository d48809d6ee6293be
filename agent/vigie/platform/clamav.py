"""ClamAV's clamscan, on Linux and macOS: a scan is only offered when a virus database exists."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

from vigie.platform import parsers, proc
from vigie.platform.base import AntivirusProduct, AntivirusStatus, ScanResult, Volume

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
    # Exit codes: 0 clean, 1 something found, 2 error (raised by proc.run as ToolFailed).
    result = proc.run(["clamscan", "-r", "--no-summary", "--infected", "--", volume.mount_point], timeout,
                      ok_codes=(0, 1))
    return ScanResult("ClamAV", tuple(parsers.parse_clamscan(result.stdout, volume.mount_point)))


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
