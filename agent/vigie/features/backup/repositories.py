"""restic and borg, run read-only: the commands, their environment, and what their JSON says.

The password never passes through the agent: restic and borg ask `vigie backup password NAME`
(RESTIC_PASSWORD_COMMAND / BORG_PASSCOMMAND), a short-lived process that reads the keyring.
Locks are bypassed (`--no-lock`, `--bypass-lock`) so that reading never writes to the repository.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
from dataclasses import dataclass
from datetime import datetime

from vigie.config.schema import BackupRepository
from vigie.platform import proc
from vigie.ui.children import vigie_command

PASSWORD_ENTRY = "backup-password:{name}"  # noqa: S105 -- the name of the keyring entry (service "Vigie") holding a repository's password
GLOB_CHARACTERS = set("*?[]\\")  # restic --include takes patterns: such names are not drilled
# URL-like, restic backends ("sftp:", "s3:"…) and borg's user@host:path. "C:\\…" is local.
REMOTE_LOCATION = re.compile(r"^(?:[A-Za-z][\w+.-]*://|(?:sftp|rest|s3|b2|azure|gs|swift|rclone):|[^/\\]+@[^/\\]+:)")


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


def newest_snapshot(repository: BackupRepository, timeout: float) -> Snapshot | None:
    if repository.kind == "restic":
        result = proc.run(["restic", "snapshots", "--json", "--no-lock"], timeout, env=environment(repository))
        return parse_restic_snapshots(result.stdout)
    result = proc.run(["borg", "list", "--last", "1", "--json", "--bypass-lock"], timeout,
                      env=environment(repository))
    return parse_borg_list(result.stdout)


def stored_files(repository: BackupRepository, snapshot: Snapshot, timeout: float) -> list[StoredFile]:
    if repository.kind == "restic":
        result = proc.run(["restic", "ls", snapshot.id, "--json", "--no-lock"], timeout, env=environment(repository))
        return parse_restic_ls(result.stdout)
    result = proc.run(["borg", "list", "--json-lines", "--bypass-lock", f"::{snapshot.id}"], timeout,
                      env=environment(repository))
    return parse_borg_items(result.stdout)


def restore(repository: BackupRepository, snapshot: Snapshot, files: list[StoredFile], target: str,
            timeout: float) -> None:
    """Extract files under target. A file the tool could not restore is simply missing afterwards
    (restic exits 1 and goes on; borg exits 1 on warnings): the caller compares what is there."""
    if repository.kind == "restic":
        includes = [arg for f in files for arg in ("--include", f.path)]
        proc.run(["restic", "restore", snapshot.id, "--no-lock", "--target", target, *includes], timeout,
                 ok_codes=(0, 1), env=environment(repository))
    else:
        proc.run(["borg", "extract", "--bypass-lock", f"::{snapshot.id}", *[f.path for f in files]], timeout,
                 ok_codes=(0, 1), env=environment(repository), cwd=target)


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
    """`restic snapshots --json`: a list of snapshots, or (with --group-by) a list of groups."""
    data = json.loads(stdout or "[]")
    snapshots = []
    for item in data:
        snapshots.extend(item.get("snapshots", []) if "group_key" in item else [item])
    if not snapshots:
        return None
    newest = max(snapshots, key=lambda s: _aware(s["time"]))
    return Snapshot(newest["id"], _aware(newest["time"]))


def parse_borg_list(stdout: str) -> Snapshot | None:
    """`borg list --last 1 --json`: borg writes local times without a zone."""
    archives = json.loads(stdout).get("archives", [])
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
