"""restic and borg, run read-only: the commands, their environment, and what their JSON says.

The password never passes through the agent: restic and borg ask `vigie backup password NAME`
(RESTIC_PASSWORD_COMMAND / BORG_PASSCOMMAND), a short-lived process that reads the keyring.
Their locks are bypassed (`--no-lock`, `--bypass-lock`) so that reading never writes to the repository;
Vigie's own lock (exclusive) lets one of its runs at a time reach a repository, whichever thread or
process asks: a hung tool is never joined by a second one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import shlex
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from vigie import paths
from vigie.config.schema import BackupRepository
from vigie.model import T
from vigie.platform import proc

if TYPE_CHECKING:  # filelock is imported when a repository is locked: not by the resting agent (issue 21)
    from filelock import FileLock
from vigie.platform.base import PlatformError
from vigie.ui.children import vigie_command

log = logging.getLogger(__name__)

PASSWORD_ENTRY = "backup-password:{name}"  # noqa: S105 -- the name of the keyring entry (service "Vigie") holding a repository's password
GLOB_CHARACTERS = set("*?[]\\")  # restic --include takes patterns: such names are not drilled
# URL-like, restic backends ("sftp:", "s3:"…) and borg's user@host:path. "C:\\…" is local.
REMOTE_LOCATION = re.compile(r"^(?:[A-Za-z][\w+.-]*://|(?:sftp|rest|s3|b2|azure|gs|swift|rclone):|[^/\\]+@[^/\\]+:)")


class RepositoryBusy(PlatformError):
    """Another run of Vigie (a check, a restore test, a command) is using this repository."""

    def __init__(self, log_detail: str = "") -> None:
        super().__init__(T("a check of this repository is already running"), log_detail)


@dataclass(frozen=True)
class Snapshot:
    id: str  # restic snapshot id, or borg archive name
    time: datetime  # aware


@dataclass(frozen=True)
class StoredFile:
    path: str  # as the tool names it (restic: absolute; borg: without the leading "/")
    original: str  # where the file lives on this computer
    size: int
    mtime: datetime  # aware


def environment(repository: BackupRepository) -> dict[str, str]:
    password_command = shlex.join(vigie_command("backup", "password", repository.name))
    env = dict(os.environ)
    if repository.kind == "restic":
        env.update(RESTIC_REPOSITORY=repository.repository, RESTIC_PASSWORD_COMMAND=password_command)
        for inherited in ("RESTIC_PASSWORD", "RESTIC_PASSWORD_FILE", "RESTIC_REPOSITORY_FILE"):
            env.pop(inherited, None)  # restic refuses two sources for one setting
    else:
        env.update(BORG_REPO=repository.repository, BORG_PASSCOMMAND=password_command,
                   BORG_RELOCATED_REPO_ACCESS_IS_OK="no", BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK="no")
        env.pop("BORG_PASSPHRASE", None)
    return env


_locks: dict[str, FileLock] = {}  # by lock file path
_locks_guard = threading.Lock()


def _lock_of(repository: BackupRepository) -> FileLock:
    """One lock file per repository (its kind and location, whatever names it has in the settings),
    in the user's runtime folder: shared by the agent's threads and by `vigie` commands. The same
    FileLock object per process, so a thread that holds it may take it again."""
    location = repository.repository.removeprefix("local:")
    if not REMOTE_LOCATION.match(location):
        location = os.path.realpath(location)
    digest = hashlib.sha256(f"{repository.kind}\0{location}".encode()).hexdigest()[:32]
    path = paths.private_dir(paths.runtime_dir() / "repositories") / f"{digest}.lock"
    from filelock import FileLock

    with _locks_guard:
        if str(path) not in _locks:
            _locks[str(path)] = FileLock(path, mode=0o600)
        return _locks[str(path)]


@contextmanager
def exclusive(repository: BackupRepository, wait: float) -> Iterator[None]:
    """Hold the repository for one run of restic or borg. A second caller waits at most `wait`
    seconds (as long as it would wait for the tool itself), then gets RepositoryBusy."""
    lock = _acquire(repository, wait)
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def _acquire(repository: BackupRepository, wait: float) -> FileLock | None:
    from filelock import Timeout

    try:
        lock = _lock_of(repository)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            log.info("backup: %s is in use; waiting up to %s s", repository.name, round(wait))
            lock.acquire(timeout=wait)
    except Timeout as exc:  # before OSError: filelock's Timeout is a TimeoutError
        log.warning("backup: %s still in use after %s s", repository.name, round(wait))
        raise RepositoryBusy(f"{repository.kind}:{repository.name}") from exc
    except OSError as exc:  # no runtime folder: better run unguarded than not at all
        log.warning("backup: no lock for %s, running without: %s", repository.name, exc)
        return None
    return lock


def _run(repository: BackupRepository, argv: list[str], timeout: float, **kwargs) -> proc.Result:
    with exclusive(repository, timeout):
        return proc.run(argv, timeout, env=environment(repository), **kwargs)


def newest_snapshot(repository: BackupRepository, timeout: float) -> Snapshot | None:
    """The newest snapshot (archive), or None when the repository was read and holds none."""
    if repository.kind == "restic":
        result = _run(repository, ["restic", "snapshots", "--json", "--no-lock"], timeout)
        return parse_restic_snapshots(result.stdout)
    result = _run(repository, ["borg", "list", "--last", "1", "--json", "--bypass-lock"], timeout)
    return parse_borg_list(result.stdout)


def stored_files(repository: BackupRepository, snapshot: Snapshot, timeout: float) -> list[StoredFile]:
    if repository.kind == "restic":
        result = _run(repository, ["restic", "ls", snapshot.id, "--json", "--no-lock"], timeout)
        return parse_restic_ls(result.stdout)
    result = _run(repository, ["borg", "list", "--json-lines", "--bypass-lock", f"::{snapshot.id}"], timeout)
    return parse_borg_items(result.stdout)


def restore(repository: BackupRepository, snapshot: Snapshot, files: list[StoredFile], target: str,
            timeout: float) -> None:
    """Extract files under target. A file the tool could not restore is simply missing afterwards
    (restic exits 1 and goes on; borg exits 1 on warnings): the caller compares what is there."""
    if repository.kind == "restic":
        includes = [arg for f in files for arg in ("--include", f.path)]
        _run(repository, ["restic", "restore", snapshot.id, "--no-lock", "--target", target, *includes], timeout,
             ok_codes=(0, 1))
    else:
        _run(repository, ["borg", "extract", "--bypass-lock", f"::{snapshot.id}", *[f.path for f in files]],
             timeout, ok_codes=(0, 1), cwd=target)


def restored_path(repository: BackupRepository, target: str, stored: StoredFile) -> str:
    return os.path.join(target, stored.path.lstrip("/"))


def local_repository_present(repository: BackupRepository) -> bool | None:
    """True/False for a repository in a local folder; None for a remote one (cannot tell cheaply)."""
    location = repository.repository.removeprefix("local:")
    if REMOTE_LOCATION.match(location):
        return None
    return os.path.isdir(location)


# --- parsers (pure) ------------------------------------------------------------------------------

def _aware(text: str, naive_is_local: bool = False) -> datetime:
    # restic writes nanoseconds and "Z"; Python 3.11 takes at most microseconds.
    text = text.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(itertools.takewhile(str.isdigit, rest))
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.astimezone() if naive_is_local else moment
    return moment


def parse_restic_snapshots(stdout: str) -> Snapshot | None:
    """`restic snapshots --json`: a list of snapshots, or (with --group-by) a list of groups. An empty
    repository gives `[]`; empty output says nothing, so it is not read as "no snapshot" (ValueError)."""
    data = json.loads(stdout)
    if not isinstance(data, list):
        raise ValueError("restic snapshots: not a list")
    snapshots = []
    for item in data:
        snapshots.extend(item.get("snapshots", []) if "group_key" in item else [item])
    if not snapshots:
        return None
    newest = max(snapshots, key=lambda s: _aware(s["time"]))
    return Snapshot(newest["id"], _aware(newest["time"]))


def parse_borg_list(stdout: str) -> Snapshot | None:
    """`borg list --last 1 --json`: borg writes local times without a zone. An answer without its
    "archives" part is not read as an empty repository (KeyError)."""
    archives = json.loads(stdout)["archives"]
    if not isinstance(archives, list):
        raise ValueError("borg list: archives is not a list")
    if not archives:
        return None
    newest = max(archives, key=lambda a: a.get("start") or a["time"])
    return Snapshot(newest["name"], _aware(newest.get("start") or newest["time"], naive_is_local=True))


def parse_restic_ls(stdout: str) -> list[StoredFile]:
    files = []
    for line in stdout.splitlines():
        node = json.loads(line) if line.strip() else {}
        if node.get("struct_type") == "node" and node.get("type") == "file":
            files.append(StoredFile(node["path"], node["path"], int(node.get("size", 0)), _aware(node["mtime"])))
    return files


def parse_borg_items(stdout: str) -> list[StoredFile]:
    files = []
    for line in stdout.splitlines():
        item = json.loads(line) if line.strip() else {}
        if item.get("type") == "-":
            files.append(StoredFile(item["path"], "/" + item["path"].lstrip("/"), int(item.get("size", 0)),
                                    _aware(item["mtime"], naive_is_local=True)))
    return files
