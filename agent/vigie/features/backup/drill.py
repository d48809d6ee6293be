"""The restore drill: restore a few random files from a backup into a private temporary folder,
compare them with the originals that have not changed since that backup, and say how it went.

It never writes into the backup or into the originals, and the temporary folder is removed
whatever happens (a drive pulled out in the middle included). A drive or repository that goes
away during the drill makes the drill "not done", never a false proof and never a false alarm.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path

from vigie import paths
from vigie.config.schema import BackupFolder, BackupRepository
from vigie.errors import VigieError
from vigie.features.backup import repositories, scan, sources
from vigie.features.backup.destination import DestinationError, Located
from vigie.features.backup.repositories import GLOB_CHARACTERS, Snapshot, StoredFile
from vigie.model import T, Text
from vigie.platform.base import PlatformError, Volume

log = logging.getLogger(__name__)
ORIGINALS_LIMITS = scan.Limits(max_entries=50_000, max_seconds=3.0)
MTIME_TOLERANCE = 2.0  # seconds: FAT and SMB keep times to 2 s
MAX_FILE_BYTES = 200 * 1024 * 1024  # a drill restores a few documents, not a video archive


class Outcome(Enum):
    PASSED = "passed"
    FAILED = "failed"  # a file differs, is missing from the backup, or cannot be read from it
    NOT_DONE = "not_done"  # the backup went away, or nothing could be tested


@dataclass(frozen=True)
class FileProblem:
    name: str  # the file's name (not its folder)
    problem: str  # "different", "missing", "unreadable"


@dataclass
class DrillResult:
    source: str  # SourceState.key
    label: Text
    outcome: Outcome
    checked: list[tuple[str, str]] = field(default_factory=list)  # (name, sha256) restored and equal
    problems: list[FileProblem] = field(default_factory=list)
    reason: Text | None = None  # why NOT_DONE

    def journal_data(self) -> dict[str, object]:
        return {"source": self.source, "outcome": self.outcome.value,
                "files": [{"name": n, "sha256": h} for n, h in self.checked],
                "problems": [{"name": p.name, "problem": p.problem} for p in self.problems]}


Restored = dict[int, "Path | str"]  # index of a picked file → its restored copy, or what went wrong


GONE_REASON = T("the backup went away during the test (drive unplugged?)")
LOCAL_REASON = T("this computer could not hold the restored copies (disk full?)")


class BackupGone(VigieError):
    """The drive or repository went away (or stopped answering) during the drill."""

    def __init__(self, log_detail: str = "") -> None:
        super().__init__(GONE_REASON, log_detail)


class LocalProblem(VigieError):
    """This computer could not hold the restored copies (disk full…): not the backup's fault."""

    def __init__(self, log_detail: str = "") -> None:
        super().__init__(LOCAL_REASON, log_detail)


LOCAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


@dataclass(frozen=True)
class Candidate:
    original: Path | None  # None: no original to compare with (a folder enrolled without --originals)
    stored: object  # Path of the copy (folder) or StoredFile (restic, borg)
    stamp: tuple[int, int, int] | None = None  # the original's (size, mtime_ns, ctime_ns) when picked

    @property
    def name(self) -> str:
        return self.original.name if self.original else Path(str(getattr(self.stored, "path", self.stored))).name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unchanged_since(original: Path, backup_time: datetime) -> bool:
    """Neither written nor renamed, moved or restored here since the backup: its ctime (POSIX: last
    change of name or metadata; Windows: creation) is older too. Only such a file must be in the
    backup, identical."""
    try:
        stat = original.stat()
    except OSError:
        return False
    limit = backup_time.timestamp() + MTIME_TOLERANCE
    return stat.st_size <= MAX_FILE_BYTES and stat.st_mtime <= limit and stat.st_ctime <= limit


def stamp_of(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


# --- folder destinations -------------------------------------------------------------------------

class FolderDrill:
    def __init__(self, folder: BackupFolder, located: Located, volumes: list[Volume]) -> None:
        self.folder = folder
        self.located = located
        self.volumes = volumes
        self.key, self.label = sources.folder_key(folder), sources.folder_label(folder)

    def still_there(self) -> bool:
        try:
            found = sources.locate(self.folder, self.volumes)
        except DestinationError:
            return False
        return found is not None and found.folder == self.located.folder

    def candidates(self) -> list[Candidate]:
        backup_time, _ = sources.folder_last_backup(self.located)
        if self.folder.originals and backup_time is not None:
            root = Path(self.folder.originals)
            return [Candidate(Path(e.path), self.located.folder / Path(e.path).relative_to(root),
                              stamp_of(Path(e.path)))
                    for e in scan.walk_files(str(root), ORIGINALS_LIMITS)
                    if unchanged_since(Path(e.path), backup_time)]
        skip_marker = lambda entry: entry.name.startswith(".vigie-backup-id")  # noqa: E731
        return [Candidate(None, Path(e.path)) for e in scan.walk_files(str(self.located.folder), ORIGINALS_LIMITS,
                                                                       skip=skip_marker)
                if e.stat(follow_symlinks=False).st_size <= MAX_FILE_BYTES]

    def restore(self, picked: list[Candidate], target: Path, progress: Callable[[int], None]) -> Restored:
        restored: Restored = {}
        for index, candidate in enumerate(picked):
            progress(index)
            copy = target / str(index) / candidate.name
            copy.parent.mkdir()
            try:
                shutil.copyfile(candidate.stored, copy)
                restored[index] = copy
            except OSError as exc:
                if exc.errno in LOCAL_ERRNOS:
                    raise LocalProblem from exc
                if not self.still_there():
                    raise BackupGone from exc
                log.warning("drill: a file could not be restored: %s", exc.strerror)
                restored[index] = "missing" if isinstance(exc, FileNotFoundError) else "unreadable"
        return restored


# --- restic and borg -------------------------------------------------------------------------------

class RepositoryDrill:
    def __init__(self, repository: BackupRepository, timeout: float) -> None:
        self.repository = repository
        self.timeout = timeout
        self.key, self.label = sources.repository_key(repository), sources.repository_label(repository)
        self.snapshot: Snapshot | None = None

    def still_there(self) -> bool:
        return repositories.local_repository_present(self.repository) is not False

    def candidates(self) -> list[Candidate]:
        self.snapshot = repositories.newest_snapshot(self.repository, self.timeout)
        if self.snapshot is None:
            return []
        return [Candidate(Path(f.original), f, stamp_of(Path(f.original)))
                for f in repositories.stored_files(self.repository, self.snapshot, self.timeout)
                if not GLOB_CHARACTERS & set(f.path) and self._unchanged(f)]

    @staticmethod
    def _unchanged(stored: StoredFile) -> bool:
        try:
            stat = Path(stored.original).stat()
        except OSError:
            return False
        return (stat.st_size == stored.size <= MAX_FILE_BYTES
                and abs(stat.st_mtime - stored.mtime.timestamp()) <= MTIME_TOLERANCE)

    def restore(self, picked: list[Candidate], target: Path, progress: Callable[[int], None]) -> Restored:
        progress(0)
        files = [c.stored for c in picked]
        try:
            repositories.restore(self.repository, self.snapshot, files, str(target), self.timeout)
        except PlatformError as exc:  # a timeout, a repository out of reach: restic/borg said nothing of files
            log.warning("drill: %s restore failed: %s", self.key, exc)
            raise BackupGone from exc
        if not self.still_there():
            raise BackupGone
        restored: Restored = {}
        for index, stored in enumerate(files):
            path = Path(repositories.restored_path(self.repository, str(target), stored))
            restored[index] = path if path.is_file() else "unreadable"  # listed in the backup, not restored
        return restored


Drillable = FolderDrill | RepositoryDrill


def drillable_sources(destinations: list[BackupFolder], repos: list[BackupRepository], volumes: list[Volume],
                      timeout: float) -> list[Drillable]:
    """The sources a drill can run on now: connected folders, and repositories not known absent."""
    found: list[Drillable] = []
    for folder in destinations:
        try:
            located = sources.locate(folder, volumes)
        except DestinationError:
            continue
        if located is not None:
            found.append(FolderDrill(folder, located, volumes))
    found += [RepositoryDrill(r, timeout) for r in repos if repositories.local_repository_present(r) is not False]
    return found


def run_drill(source: Drillable, count: int, rng: random.Random | None = None,
              progress: Callable[[int], None] = lambda index: None, work_root: Path | None = None) -> DrillResult:
    rng = rng or random.SystemRandom()
    try:
        candidates = source.candidates()
    except (PlatformError, OSError, ValueError, KeyError) as exc:
        log.warning("drill: %s cannot be listed: %s", source.key, exc)
        busy = isinstance(exc, repositories.RepositoryBusy)  # another check holds it: say so, not "out of reach"
        return DrillResult(source.key, source.label, Outcome.NOT_DONE, reason=exc.reason if busy else
                           T("the backup could not be read (drive unplugged, or repository out of reach)"))
    if not candidates:
        return DrillResult(source.key, source.label, Outcome.NOT_DONE,
                           reason=T("no file in the backup is unchanged since then, so none could be compared"))
    picked = rng.sample(candidates, min(count, len(candidates)))
    try:
        work = Path(tempfile.mkdtemp(prefix="drill-", dir=paths.private_dir(work_root or paths.drill_dir())))
    except OSError as exc:
        log.error("drill: no temporary folder: %s", exc)
        return DrillResult(source.key, source.label, Outcome.NOT_DONE, reason=LOCAL_REASON)
    try:
        restored = source.restore(picked, work, progress)
        return _compare(source, picked, restored)
    except BackupGone:
        log.warning("drill: %s went away during the drill", source.key)
        return DrillResult(source.key, source.label, Outcome.NOT_DONE,
                           reason=GONE_REASON)
    except (LocalProblem, OSError) as exc:
        log.error("drill: %s stopped on this computer's side: %s", source.key, exc)
        return DrillResult(source.key, source.label, Outcome.NOT_DONE, reason=LOCAL_REASON)
    finally:
        remove_tree(work)


def remove_tree(path: Path) -> None:
    """Remove the restored copies, read-only ones included; what stays is logged, never silent."""

    def make_writable(function, failed: str, _info) -> None:
        with contextlib.suppress(OSError):
            os.chmod(failed, 0o700)
            function(failed)

    shutil.rmtree(path, onerror=make_writable)
    if path.exists():
        log.error("drill: restored copies could not all be removed from %s", path)


def remove_leftovers(root: Path | None = None) -> None:
    """Copies left by a drill cut short (agent killed, logout): removed at the next start."""
    folder = root or paths.drill_dir()
    with contextlib.suppress(OSError):
        for leftover in folder.glob("drill-*"):
            log.warning("drill: removing copies left by an interrupted drill")
            remove_tree(leftover)


def _compare(source: Drillable, picked: list[Candidate], restored: Restored) -> DrillResult:
    result = DrillResult(source.key, source.label, Outcome.PASSED)
    for index, candidate in enumerate(picked):
        copy = restored.get(index, "unreadable")
        if candidate.original is not None and stamp_of(candidate.original) != candidate.stamp:
            continue  # the user changed (or removed) it during the drill: nothing to compare any more
        if isinstance(copy, str):
            result.problems.append(FileProblem(candidate.name, copy))
            continue
        digest = sha256_of(copy)
        try:
            original_digest = sha256_of(candidate.original) if candidate.original is not None else digest
        except OSError as exc:  # locked or gone meanwhile: not the backup's fault
            log.info("drill: an original could not be read: %s", exc.strerror)
            continue
        if original_digest != digest:
            result.problems.append(FileProblem(candidate.name, "different"))
        else:
            result.checked.append((candidate.name, digest))
    if result.problems:
        result.outcome = Outcome.FAILED
    elif not result.checked:
        result.outcome = Outcome.NOT_DONE
        result.reason = T("no file in the backup is unchanged since then, so none could be compared")
    log.info("drill: %s %s (%d equal, %d problems)", source.key, result.outcome.value, len(result.checked),
             len(result.problems))
    return result

