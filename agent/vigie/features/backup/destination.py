"""Enrolled backup destinations: a folder (on an external drive or a NAS share) that holds a small
`.vigie-backup-id` marker. The marker carries the destination's id and the time a backup job last said
it finished (`vigie backup mark`); it holds nothing personal. Vigie's configuration keeps the
folder's path and its path inside its drive, so the drive is found again under another letter or
mount point.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vigie.errors import VigieError
from vigie.model import T
from vigie.platform.base import Volume

log = logging.getLogger(__name__)
MARKER = ".vigie-backup-id"
MAX_MARKER_BYTES = 4096


class DestinationError(VigieError):
    """A backup folder or its marker cannot be used; `reason` says why."""


@dataclass(frozen=True)
class Marker:
    id: str
    enrolled: datetime
    last_backup: datetime | None = None

    def to_json(self) -> str:
        return json.dumps({
            "vigie_backup_id": self.id, "enrolled": self.enrolled.isoformat(timespec="seconds"),
            "last_backup": self.last_backup.isoformat(timespec="seconds") if self.last_backup else None,
        }, indent=1)


def parse_marker(text: str) -> Marker:
    """Raise ValueError (or KeyError/TypeError) when the text is not a marker Vigie wrote."""
    data = json.loads(text)
    last = data.get("last_backup")
    return Marker(id=str(uuid.UUID(data["vigie_backup_id"])), enrolled=_aware(data["enrolled"]),
                  last_backup=_aware(last) if last else None)


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.astimezone()


def read_marker(folder: Path) -> Marker | None:
    """The marker in folder, or None when there is none (drive absent, or not enrolled).
    Raise DestinationError when a marker is there but cannot be read."""
    path = folder / MARKER
    try:
        raw = _read_regular_file(path, MAX_MARKER_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        log.warning("backup marker unreadable: %s", exc.strerror)
        raise DestinationError(T("The backup folder cannot be read.")) from exc
    try:
        if len(raw) > MAX_MARKER_BYTES:
            raise ValueError("too large")
        return parse_marker(raw.decode("utf-8"))
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("backup marker damaged: %s", exc)
        raise DestinationError(T("Vigie's mark on the backup folder is damaged: enroll it again.")) from exc


def _read_regular_file(path: Path, limit: int) -> bytes:
    """Read at most `limit` bytes of a regular file. A stick may carry anything under the marker's
    name: a FIFO would block open() for ever, a symlink could point anywhere."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return os.read(fd, limit)
    finally:
        os.close(fd)


def write_marker(folder: Path, marker: Marker) -> None:
    """Replace the marker atomically: a drive pulled out mid-write keeps the old one."""
    temporary = folder / f".{MARKER}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(marker.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, folder / MARKER)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        log.error("cannot write the backup marker: %s", exc)
        raise DestinationError(T("Vigie cannot write on the backup folder ({reason}).",
                                 reason=exc.strerror or type(exc).__name__)) from exc


def enroll(folder: Path, now: datetime) -> Marker:
    """Mark folder as a backup destination (keeping its id when it already was one)."""
    if not folder.is_dir():
        raise DestinationError(T("This folder does not exist: {path}", path=str(folder)))
    existing = read_marker(folder)
    marker = Marker(id=existing.id if existing else str(uuid.uuid4()), enrolled=existing.enrolled if existing
                    else now, last_backup=existing.last_backup if existing else None)
    write_marker(folder, marker)
    return marker


def mark(folder: Path, now: datetime) -> Marker:
    """A backup job says it has just finished writing to folder."""
    existing = read_marker(folder)
    if existing is None:
        raise DestinationError(T("This folder is not an enrolled backup destination: {path}", path=str(folder)))
    marker = Marker(existing.id, existing.enrolled, last_backup=now)
    write_marker(folder, marker)
    return marker


def mount_point_of(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def relative_to_mount(folder: Path) -> str:
    resolved = folder.resolve()
    relative = resolved.relative_to(mount_point_of(resolved)).as_posix()
    return "" if relative == "." else relative


@dataclass(frozen=True)
class Located:
    folder: Path
    marker: Marker


def locate(destination_id: str, configured_path: str, relative: str, volumes: Iterable[Volume]) -> Located | None:
    """Where the destination is now: its configured path, or the same folder on a drive that came
    back under another letter or mount point. None when it is not connected."""
    candidates = [Path(configured_path)]
    candidates += [Path(volume.mount_point) / relative for volume in volumes]
    for folder in candidates:
        try:
            marker = read_marker(folder)
        except DestinationError:
            if folder == candidates[0]:
                raise
            continue  # another drive's damaged marker is not this destination's problem
        if marker is not None and marker.id == destination_id:
            return Located(folder, marker)
    return None
