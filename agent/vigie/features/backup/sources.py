"""Every place a backup may be, read into one shape: when its newest backup was made.

Runs on the engine thread (backup_age and backup_drive checks) or in `vigie check`. A drive that
is meant to be unplugged is not an error: its last backup is the one seen when it was last
connected (kept in the journal). A source counts as a copy only when a backup was really seen in
it (holds_backup): an empty repository or folder, or one never read, is no second copy.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vigie.config.schema import BackupAge, BackupFolder, BackupRepository
from vigie.features.backup import destination, repositories, scan
from vigie.features.backup.destination import MARKER, DestinationError, Located
from vigie.journal import Journal
from vigie.model import T, Text
from vigie.platform.base import Platform, PlatformError, Volume

log = logging.getLogger(__name__)
SCAN_LIMITS = scan.Limits(max_entries=20_000, max_seconds=0.5)
SYSTEM_LABELS = {
    "file_history": T("File History"), "wbadmin": T("Windows Server Backup"),
    "time_machine": T("Time Machine"), "deja_dup": T("Déjà Dup"),
}


@dataclass(frozen=True)
class SourceState:
    key: str  # stable, for the journal: "folder:<id>", "restic:<name>", "borg:<name>", "system:<tool>"
    label: Text
    last_backup: datetime | None  # aware; None when none was ever seen
    error: Text | None = None  # the source could not be read now
    connected: bool = True  # False: a drive not plugged in (last_backup is from when it was)
    estimated: bool = False  # from a bounded scan of modification times that stopped at a limit

    @property
    def holds_backup(self) -> bool:
        """A backup was seen in it: read now, or (a drive unplugged) when it was last connected."""
        return self.last_backup is not None and self.error is None


def folder_key(folder: BackupFolder) -> str:
    return f"folder:{folder.id}"


def repository_key(repository: BackupRepository) -> str:
    return f"{repository.kind}:{repository.name}"


def folder_label(folder: BackupFolder) -> Text:
    name = Path(folder.path.replace("\\", "/")).name or folder.path
    return T("Backup folder “{name}”", name=name)


def repository_label(repository: BackupRepository) -> Text:
    return T("{tool} repository “{name}”", tool=repository.kind, name=repository.name)


def read_all(settings: BackupAge, platform: Platform, journal: Journal, now: datetime) -> list[SourceState]:
    volumes = mounted(platform)
    states = [folder_state(f, volumes, journal) for f in settings.destinations]
    states += [repository_state(r, settings.timeout_seconds, journal) for r in settings.repositories]
    if settings.system_tools:
        states += system_states(platform, settings.timeout_seconds)
    return states


def mounted(platform: Platform) -> list[Volume]:
    try:
        return platform.mounted_volumes()
    except PlatformError as exc:
        log.warning("backup: mounted volumes unavailable: %s", exc)
        return []


def locate(folder: BackupFolder, volumes: list[Volume]) -> Located | None:
    return destination.locate(folder.id, folder.path, folder.relative, volumes)


def folder_state(folder: BackupFolder, volumes: list[Volume], journal: Journal) -> SourceState:
    key, label = folder_key(folder), folder_label(folder)
    try:
        located = locate(folder, volumes)
    except DestinationError as exc:
        return SourceState(key, label, _remembered(journal, key), error=exc.reason)
    if located is None:
        return SourceState(key, label, _remembered(journal, key), connected=False)
    if not holds_files(located.folder):
        log.info("backup: %s holds nothing but Vigie's mark", key)
        return SourceState(key, label, None)
    last, estimated = folder_last_backup(located)
    if last is not None:
        _remember(journal, key, last)
    return SourceState(key, label, last, estimated=estimated)


def folder_last_backup(located: Located) -> tuple[datetime | None, bool]:
    """The time `vigie backup mark` wrote, else the newest modification time (bounded scan)."""
    if located.marker.last_backup is not None:
        return located.marker.last_backup, False
    newest = scan.newest_mtime(str(located.folder), SCAN_LIMITS, skip=is_marker)
    if newest.mtime is None:
        return None, False
    return datetime.fromtimestamp(newest.mtime, UTC), not newest.complete


def is_marker(entry: os.DirEntry) -> bool:
    """Vigie's mark (or its temporary copy): written at enrolment, it is no backup."""
    return entry.name == MARKER or entry.name.startswith(f".{MARKER}.")


def holds_files(folder: Path) -> bool:
    """A file in the folder besides Vigie's mark (bounded walk; a tree too large to finish is not
    called empty)."""
    walk = scan.Walk(str(folder), SCAN_LIMITS, skip=is_marker)
    return any(entry.is_file(follow_symlinks=False) for entry in walk) or not walk.complete


def repository_state(repository: BackupRepository, timeout: float, journal: Journal) -> SourceState:
    key, label = repository_key(repository), repository_label(repository)
    if repositories.local_repository_present(repository) is False:
        return SourceState(key, label, _remembered(journal, key), connected=False)
    try:
        snapshot = repositories.newest_snapshot(repository, timeout)
    except repositories.RepositoryBusy as exc:
        return SourceState(key, label, _remembered(journal, key), error=exc.reason)
    except PlatformError as exc:
        log.warning("backup: %s unreadable: %s", key, exc)
        reason = T("{tool} could not open it (password, or repository out of reach).", tool=repository.kind)
        return SourceState(key, label, _remembered(journal, key), error=reason)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("backup: %s answered something unexpected: %s", key, exc)
        return SourceState(key, label, _remembered(journal, key),
                           error=T("{tool} gave an answer Vigie cannot read.", tool=repository.kind))
    if snapshot is None:  # read, and empty: no copy, whatever was seen there before
        return SourceState(key, label, None)
    _remember(journal, key, snapshot.time)
    return SourceState(key, label, snapshot.time)


def system_states(platform: Platform, timeout: float) -> list[SourceState]:
    try:
        records = platform.system_backups(timeout)
    except PlatformError as exc:
        log.warning("backup: system backup tools unreadable: %s", exc)
        return []
    return [SourceState(f"system:{r.source}", SYSTEM_LABELS.get(r.source, T("Backup tool “{tool}”", tool=r.source)),
                        r.last_backup, error=r.error) for r in records]


def _remember(journal: Journal, key: str, when: datetime) -> None:
    journal.set_state(f"backup.last_seen.{key}", when.isoformat())


def _remembered(journal: Journal, key: str) -> datetime | None:
    value = journal.get_state(f"backup.last_seen.{key}")
    return datetime.fromisoformat(value) if value else None
