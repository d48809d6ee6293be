"""The restore drill: restore a few random files from a backup into a private temporary folder,
compare them with the originals that have not changed since that backup, and say how it went.

It never writes into the backup or into the originals, and the temporary folder is removed
whatever happens: a drive pulled out in the middle, an error, or the agent quitting (stop_all).
A drive or repository that goes away during the drill makes the drill "not done", never a false
proof and never a false alarm.

What a drill proves is said plainly: files compared with their originals are "identical" (PASSED);
a backup folder enrolled without its originals can only show that its files read back (READABLE).
Only regular files are restored (see safe_read), each under MAX_FILE_BYTES, all of them under
MAX_TOTAL_BYTES, and only when this computer has the room for them.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import random
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import cast

from vigie import paths
from vigie.config.schema import BackupFolder, BackupRepository
from vigie.errors import VigieError
from vigie.features.backup import layout, repositories, scan, sources
from vigie.features.backup.destination import MARKER, DestinationError, Located
from vigie.features.backup.repositories import GLOB_CHARACTERS, Snapshot, StoredFile
from vigie.features.backup.safe_read import (
    STOPPED_REASON,
    Interrupted,
    Kind,
    copy_to,
    open_regular,
    remove_specials,
    sha256_of,
    sha256_of_fd,
)
from vigie.model import T, Text
from vigie.platform import proc
from vigie.platform.base import PlatformError, Volume

log = logging.getLogger(__name__)
ORIGINALS_LIMITS = scan.Limits(max_entries=50_000, max_seconds=3.0)
MTIME_TOLERANCE = 2.0  # seconds: FAT and SMB keep times to 2 s
MAX_FILE_BYTES = 200 * 1024 * 1024  # a drill restores a few documents, not a video archive
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # all the copies of one drill together
RESERVE_BYTES = 64 * 1024 * 1024  # left free after the copies (at most 5 % of the disk, for small ones)
LAYOUT_SAMPLE = 200  # originals looked up in the backup to tell how it is laid out


class Outcome(Enum):
    PASSED = "passed"  # restored copies identical to the originals
    READABLE = "readable"  # read back from the backup, but no original to compare with
    FAILED = "failed"  # a file differs, is missing from the backup, or cannot be read from it
    NOT_DONE = "not_done"  # the backup went away, or nothing could be tested


@dataclass(frozen=True)
class FileProblem:
    name: str  # the file's name (not its folder), as the OS gave it (see vigie.filenames)
    problem: str  # "different", "missing", "unreadable", "not_a_file"


@dataclass
class DrillResult:
    source: str  # SourceState.key
    label: Text
    outcome: Outcome
    checked: list[tuple[str, str]] = field(default_factory=list)  # (name, sha256) restored and equal, or read back
    problems: list[FileProblem] = field(default_factory=list)
    reason: Text | None = None  # why NOT_DONE

    def journal_data(self) -> dict[str, object]:
        return {"source": self.source, "outcome": self.outcome.value,
                "compared": self.outcome in (Outcome.PASSED, Outcome.FAILED),
                "files": [{"name": n, "sha256": h} for n, h in self.checked],
                "problems": [{"name": p.name, "problem": p.problem} for p in self.problems]}


# What a picked file became: its restored copy, or a problem ("missing", "unreadable", "different",
# "not_a_file"), or SKIP (not comparable after all: changed meanwhile, an older version in the backup).
SKIP = "skip"
Restored = dict[int, "Path | str"]


GONE_REASON = T("the backup went away during the test (drive unplugged?)")
LOCAL_REASON = T("this computer could not hold the restored copies (disk full?)")
ROOM_REASON = T("this computer does not have enough free space for the test")
UNCHANGED_REASON = T("no file in the backup is unchanged since then, so none could be compared")
EMPTY_REASON = T("the backup holds no file Vigie can test")
NOT_FOUND_REASON = T("none of your files were found in this backup (is it the right folder of originals?)")


class BackupGone(VigieError):
    """The drive or repository went away (or stopped answering) during the drill."""

    def __init__(self, log_detail: str = "") -> None:
        super().__init__(GONE_REASON, log_detail)


class LocalProblem(VigieError):
    """This computer could not hold the restored copies (disk full…): not the backup's fault."""

    def __init__(self, log_detail: str = "") -> None:
        super().__init__(LOCAL_REASON, log_detail)


class NotTestable(VigieError):
    """The drill cannot be made on this backup now; `reason` says why."""


LOCAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


@dataclass(frozen=True)
class Candidate:
    name: str  # the file's name, shown to the user
    stored: tuple[str, ...] | StoredFile  # folder: its path parts under the backup folder; restic, borg: the listing
    size: int  # the bytes expected in the backup
    original: Path | None = None  # None: no original to compare with (a folder enrolled without --originals)
    stamp: tuple[int, int, int] | None = None  # the original's (size, mtime_ns, ctime_ns) when picked


Stopped = Callable[[], bool]


def unchanged_since(info: os.stat_result, backup_time: datetime) -> bool:
    """Neither written nor renamed, moved or restored here since the backup: its ctime (POSIX: last
    change of name or metadata; Windows: creation) is older too. Only such a file must be in the
    backup, identical."""
    limit = backup_time.timestamp() + MTIME_TOLERANCE
    return info.st_size <= MAX_FILE_BYTES and info.st_mtime <= limit and info.st_ctime <= limit


def stamp_of(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat(follow_symlinks=False)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _stamp(info: os.stat_result) -> tuple[int, int, int]:
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns


# --- folder destinations -------------------------------------------------------------------------

class FolderDrill:
    def __init__(self, folder: BackupFolder, located: Located, volumes: list[Volume]) -> None:
        self.folder = folder
        self.located = located
        self.volumes = volumes
        self.key, self.label = sources.folder_key(folder), sources.folder_label(folder)
        self.nothing_reason = UNCHANGED_REASON if folder.originals else EMPTY_REASON

    def still_there(self) -> bool:
        try:
            found = sources.locate(self.folder, self.volumes)
        except DestinationError:
            return False
        return found is not None and found.folder == self.located.folder

    def candidates(self) -> list[Candidate]:
        if not self.folder.originals:
            return self._stored_files()
        backup_time, _ = sources.folder_last_backup(self.located)
        if backup_time is None:
            return []
        root = Path(self.folder.originals)
        own = layout.own_folders()
        unchanged = []
        for entry in scan.walk_files(str(root), ORIGINALS_LIMITS, skip=lambda e: layout.left_out(e, own)):
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if unchanged_since(info, backup_time):
                    unchanged.append((Path(entry.path), Path(entry.path).relative_to(root).parts, info))
        if not unchanged:
            return []
        step = max(1, len(unchanged) // LAYOUT_SAMPLE)
        where = layout.find_layout(self.located.folder, root, [rel for _, rel, _ in unchanged[::step]])
        if where is None:
            raise NotTestable(NOT_FOUND_REASON, f"originals={root}")
        claims = layout.Claims(self.located.folder, where)
        picked = [Candidate(path.name, where + rel, info.st_size, path, _stamp(info))
                  for path, rel, info in unchanged if claims(rel[:-1])]
        log.info("drill: %s holds the originals under %s; %d of %d unchanged originals are in folders it holds",
                 self.key, "/".join(("BACKUP", *where)), len(picked), len(unchanged))
        return picked

    def _stored_files(self) -> list[Candidate]:
        """No originals: the files of the backup itself, to be read back (never called identical)."""
        root = self.located.folder
        skip_marker = lambda entry: entry.name.startswith((MARKER, f".{MARKER}"))  # noqa: E731
        found = []
        for entry in scan.walk_files(str(root), ORIGINALS_LIMITS, skip=skip_marker):
            with contextlib.suppress(OSError):
                size = entry.stat(follow_symlinks=False).st_size
                if size <= MAX_FILE_BYTES:
                    found.append(Candidate(entry.name, Path(entry.path).relative_to(root).parts, size))
        return found

    def restore(self, picked: list[Candidate], target: Path, progress: Callable[[int], None],
                stopped: Stopped) -> Restored:
        restored: Restored = {}
        for index, candidate in enumerate(picked):
            progress(index)
            if stopped():
                raise Interrupted
            copy = target / str(index) / candidate.name
            copy.parent.mkdir()
            try:
                restored[index] = self._restore_one(candidate, copy, stopped)
            except OSError as exc:
                if exc.errno in LOCAL_ERRNOS:
                    raise LocalProblem(str(exc)) from exc
                if not self.still_there():
                    raise BackupGone(str(exc)) from exc
                log.warning("drill: a file could not be restored: %s", exc.strerror)
                restored[index] = "unreadable"
        return restored

    def _restore_one(self, candidate: Candidate, copy: Path, stopped: Stopped) -> Path | str:
        opened = open_regular(self.located.folder, cast(tuple[str, ...], candidate.stored))
        if opened.fd is None:
            if opened.kind == Kind.MISSING:
                if not self.still_there():
                    raise BackupGone("a file vanished with its drive")
                return "missing" if candidate.original is not None else SKIP  # else: listed, then removed
            log.warning("drill: %s holds a %s where a file was expected: not followed, not read", self.key,
                        opened.kind.value)
            return "not_a_file"
        try:
            if candidate.stamp is not None:
                if opened.mtime_ns < candidate.stamp[1] - int(MTIME_TOLERANCE * 1e9):
                    log.info("drill: the backup holds an older version of a file (changed during the backup)")
                    return SKIP
                if opened.size != candidate.size:
                    return "different"  # no need to copy it: a swollen copy could fill this disk
            elif opened.size != candidate.size:
                return SKIP  # the backup is being written to right now
            if not copy_to(opened.fd, copy, candidate.size, stopped):
                return "different" if candidate.original is not None else SKIP
            return copy
        finally:
            os.close(opened.fd)


# --- restic and borg -------------------------------------------------------------------------------

class RepositoryDrill:
    def __init__(self, repository: BackupRepository, timeout: float) -> None:
        self.repository = repository
        self.timeout = timeout
        self.key, self.label = sources.repository_key(repository), sources.repository_label(repository)
        self.snapshot: Snapshot | None = None
        self.nothing_reason = UNCHANGED_REASON

    def still_there(self) -> bool:
        return repositories.local_repository_present(self.repository) is not False

    def candidates(self) -> list[Candidate]:
        self.snapshot = repositories.newest_snapshot(self.repository, self.timeout)
        if self.snapshot is None:
            return []
        found = []
        for stored in repositories.stored_files(self.repository, self.snapshot, self.timeout):
            info = self._unchanged(stored) if not GLOB_CHARACTERS & set(stored.path) else None
            if info is not None:
                found.append(Candidate(Path(stored.original).name, stored, stored.size, Path(stored.original),
                                       _stamp(info)))
        return found

    @staticmethod
    def _unchanged(stored: StoredFile) -> os.stat_result | None:
        try:
            info = os.stat(stored.original, follow_symlinks=False)
        except (OSError, ValueError):
            return None
        same = (info.st_size == stored.size <= MAX_FILE_BYTES
                and abs(info.st_mtime - stored.mtime.timestamp()) <= MTIME_TOLERANCE)
        return info if same else None

    def restore(self, picked: list[Candidate], target: Path, progress: Callable[[int], None],
                stopped: Stopped) -> Restored:
        """restic or borg writes into the private target; then every restored entry is checked with
        lstat before anything is read: links and special files are removed unread."""
        progress(0)
        files = [c.stored for c in picked if isinstance(c.stored, StoredFile)]
        try:
            repositories.restore(self.repository, self.snapshot, files, str(target), self.timeout)
        except PlatformError as exc:  # a timeout, a repository out of reach: restic/borg said nothing of files
            if stopped():
                raise Interrupted(str(exc)) from exc
            log.warning("drill: %s restore failed: %s", self.key, exc)
            raise BackupGone(str(exc)) from exc
        if stopped():
            raise Interrupted
        if not self.still_there():
            raise BackupGone
        _, written = remove_specials(target)
        if written > sum(c.size for c in picked):
            log.warning("drill: %s restored more than it listed (%d bytes)", self.key, written)
        restored: Restored = {}
        for index, stored in enumerate(files):
            parts = Path(repositories.restored_path(self.repository, str(target), stored)).relative_to(target).parts
            opened = open_regular(target, parts)
            if opened.fd is None:  # listed in the backup, not restored (or not as a file: removed above)
                restored[index] = "unreadable" if opened.kind == Kind.MISSING else "not_a_file"
                continue
            os.close(opened.fd)
            restored[index] = target.joinpath(*parts) if opened.size == stored.size else "different"
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


# --- running one, and stopping them all -------------------------------------------------------------

_closing = threading.Event()  # the agent is quitting: every drill stops, none starts
_active: set[Path] = set()  # the temporary folders of the drills running now
_changed = threading.Condition()


def run_drill(source: Drillable, count: int, rng: random.Random | None = None,
              progress: Callable[[int], None] = lambda index: None, work_root: Path | None = None,
              cancel: threading.Event | None = None) -> DrillResult:
    """Drill `count` random files of source. `cancel` (or stop_all) stops it at once: its copies are
    removed before it returns."""
    rng = rng or random.SystemRandom()

    def stopped() -> bool:
        return _closing.is_set() or (cancel is not None and cancel.is_set())

    def not_done(reason: Text) -> DrillResult:
        return DrillResult(source.key, source.label, Outcome.NOT_DONE, reason=reason)

    if stopped():
        return not_done(STOPPED_REASON)
    try:
        candidates = source.candidates()
    except NotTestable as exc:
        log.warning("drill: %s cannot be tested: %s", source.key, exc)
        return not_done(exc.reason)
    except (PlatformError, OSError, ValueError, KeyError) as exc:
        log.warning("drill: %s cannot be listed: %s", source.key, exc)
        busy = isinstance(exc, repositories.RepositoryBusy)  # another check holds it: say so, not "out of reach"
        return not_done(exc.reason if busy else
                        T("the backup could not be read (drive unplugged, or repository out of reach)"))
    if not candidates:
        return not_done(source.nothing_reason)
    picked = pick(candidates, count, rng)
    try:
        work = _start_work(work_root or paths.drill_dir())
    except OSError as exc:
        log.error("drill: no temporary folder: %s", exc)
        return not_done(LOCAL_REASON)
    try:
        if not enough_room(work, sum(c.size for c in picked)):
            return not_done(ROOM_REASON)
        restored = source.restore(picked, work, progress, stopped)
        return _compare(source, picked, restored, stopped)
    except Interrupted:
        log.warning("drill: %s stopped before its end; its copies are removed", source.key)
        return not_done(STOPPED_REASON)
    except BackupGone:
        log.warning("drill: %s went away during the drill", source.key)
        return not_done(GONE_REASON)
    except (LocalProblem, OSError) as exc:
        log.error("drill: %s stopped on this computer's side: %s", source.key, exc)
        return not_done(LOCAL_REASON)
    finally:
        _end_work(work)


def pick(candidates: list[Candidate], count: int, rng: random.Random) -> list[Candidate]:
    """Up to `count` random candidates whose sizes add up to MAX_TOTAL_BYTES at most."""
    picked, total = [], 0
    for candidate in rng.sample(candidates, len(candidates)):
        if len(picked) == count:
            break
        if total + candidate.size <= MAX_TOTAL_BYTES:
            picked.append(candidate)
            total += candidate.size
    return picked


def enough_room(work: Path, needed: int) -> bool:
    """Checked before anything is written: the copies must fit with room to spare."""
    usage = shutil.disk_usage(work)
    reserve = min(RESERVE_BYTES, usage.total // 20)
    if usage.free < needed + reserve:
        log.error("drill: not enough free space for the copies (%d bytes needed, %d free)", needed, usage.free)
        return False
    return True


def _start_work(root: Path) -> Path:
    with _changed:
        work = Path(tempfile.mkdtemp(prefix="drill-", dir=paths.private_dir(root)))
        _active.add(work)
    return work


def _end_work(work: Path) -> None:
    remove_tree(work)
    if _closing.is_set() or proc.stopping():  # the agent's quitting ended this drill (its tool killed)
        log.info("drill: stopped at exit, restored copies removed")
    with _changed:
        _active.discard(work)
        _changed.notify_all()


def stop_all(timeout: float = 5.0) -> None:
    """The agent is quitting (Quit, SIGTERM, logout): stop every drill now and remove its copies.
    restic or borg, if one is restoring, is killed with its process group."""
    _closing.set()
    with _changed:
        works = list(_active)
    for work in works:
        _kill_tools_in(work)
    with _changed:
        _changed.wait_for(lambda: not _active, timeout)
        stuck = list(_active)
    for work in stuck:  # a drive that stopped answering holds the drill's thread: remove what is there
        log.warning("drill: still running at exit; its copies are removed anyway")
        remove_tree(work)
        log.info("drill: stopped at exit, restored copies removed")


def _kill_tools_in(work: Path) -> None:
    """Kill restic or borg while it restores into work (their own process group: see proc.run)."""
    import psutil

    names = {str(work), os.path.realpath(work)}
    for child in psutil.Process().children(recursive=True):
        try:
            if not names & {*child.cmdline(), child.cwd()}:  # restic: --target WORK; borg: runs in WORK
                continue
            log.info("drill: stopping %s", child.name())
            if hasattr(os, "killpg") and os.getpgid(child.pid) == child.pid:
                os.killpg(child.pid, signal.SIGKILL)
            else:
                child.kill()
        except (psutil.Error, OSError):
            continue  # ended meanwhile


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


def _compare(source: Drillable, picked: list[Candidate], restored: Restored, stopped: Stopped) -> DrillResult:
    compared = any(c.original is not None for c in picked)
    result = DrillResult(source.key, source.label, Outcome.PASSED if compared else Outcome.READABLE)
    for index, candidate in enumerate(picked):
        copy = restored.get(index, "unreadable")
        if candidate.original is not None and stamp_of(candidate.original) != candidate.stamp:
            continue  # the user changed (or removed) it during the drill: nothing to compare any more
        if copy == SKIP:
            continue
        if isinstance(copy, str):
            result.problems.append(FileProblem(candidate.name, copy))
            continue
        digest = sha256_of(copy, candidate.size, stopped)
        if digest is None:
            result.problems.append(FileProblem(candidate.name, "different"))
            continue
        if candidate.original is not None:
            original_digest = _original_digest(candidate.original, candidate.size, stopped)
            if original_digest is None:  # locked, gone or replaced meanwhile: not the backup's fault
                continue
            if original_digest != digest:
                result.problems.append(FileProblem(candidate.name, "different"))
                continue
        result.checked.append((candidate.name, digest))
    if result.problems:
        result.outcome = Outcome.FAILED
    elif not result.checked:
        result.outcome = Outcome.NOT_DONE
        result.reason = source.nothing_reason
    log.info("drill: %s %s (%d %s, %d problems)", source.key, result.outcome.value, len(result.checked),
             "equal" if compared else "read back", len(result.problems))
    return result


def _original_digest(original: Path, size: int, stopped: Stopped) -> str | None:
    try:
        opened = open_regular(original.parent, (original.name,))
    except OSError as exc:
        log.info("drill: an original could not be read: %s", exc.strerror)
        return None
    if opened.fd is None:
        return None
    try:
        return sha256_of_fd(opened.fd, size, stopped)
    except OSError as exc:
        log.info("drill: an original could not be read: %s", exc.strerror)
        return None
    finally:
        os.close(opened.fd)
