"""ClamAV's clamscan, on Linux and macOS: a scan is only offered when a virus database exists."""

from __future__ import annotations

import shutil
from pathlib import Path

from vigie.platform import parsers, proc
from vigie.platform.base import ScanResult, Volume

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
