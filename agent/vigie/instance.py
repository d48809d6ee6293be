"""One agent per user session, and whether it is running.

The single instance is an OS file lock in the user's runtime directory (released by the OS if the
agent dies, so a crash never blocks the next start). Beside it, the holder writes `agent.json`:
its pid, the process's start time and its command line. `vigie check` reads that file and
believes it only when the same pid still has the same start time and command line, so a dead
agent whose pid was given to another process is not taken for a running one. The file is separate
from the lock: filelock may recreate or delete the lock file, and on Windows the locked bytes
cannot be read by another process. `vigie check` never takes the lock itself, even for a moment:
an agent starting at that instant would believe another one runs and quit.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from vigie import paths

log = logging.getLogger(__name__)
LOCK_FILE = "agent.lock"
INFO_FILE = "agent.json"
# Start times read twice differ by clock ticks only; a recycled pid starts seconds or days apart.
SAME_START_SECONDS = 1.0


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int
    created: float  # seconds since the epoch (psutil), moves with the wall clock on Linux
    since_boot: float  # created - boot time: moves with the wall clock on Windows and macOS
    command: tuple[str, ...]

    def same_process(self, other: ProcessIdentity) -> bool:
        """Either start time agrees (one of them survives a clock step on every OS) and the command
        line too (when it can be read)."""
        same_start = (abs(self.created - other.created) < SAME_START_SECONDS
                      or abs(self.since_boot - other.since_boot) < SAME_START_SECONDS)
        same_command = not self.command or not other.command or self.command == other.command
        return self.pid == other.pid and same_start and same_command


def process_identity(pid: int) -> ProcessIdentity | None:
    """The identity of a live process; None when there is none (or only a zombie).
    Raises psutil.Error (e.g. AccessDenied) when the OS will not say."""
    import psutil

    try:
        process = psutil.Process(pid)
        created = process.create_time()
        boot = psutil.boot_time()
        try:
            command = tuple(process.cmdline())
        except psutil.AccessDenied:
            command = ()
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
    except psutil.NoSuchProcess:  # ZombieProcess included
        return None
    return ProcessIdentity(pid, created, created - boot, command)


class HeldLock(Protocol):
    lock_file: str

    def release(self) -> None: ...


class FlockLock:
    """An exclusive flock() on the lock file, as filelock's Unix lock takes it, without the package:
    filelock 3.2x imports about 40 modules (asyncio, sqlite and soft-lock variants), 1.1 MB of the
    resting agent's USS (issue 21). The descriptor is not inherited by children (PEP 446)."""

    def __init__(self, path: Path) -> None:
        self.lock_file = str(path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """True if this process now holds the lock, False if another one does."""
        import fcntl

        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        import fcntl

        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@dataclass
class Instance:
    """The lock held by this agent, and what it says about itself in agent.json."""

    lock: HeldLock
    session: str  # names this run in the journal (agent_started / agent_stopped)
    since: datetime

    def release(self) -> None:
        try:
            info = json.loads(info_path().read_text(encoding="utf-8"))
            if info.get("session") == self.session:
                info_path().unlink()
        except (OSError, ValueError) as exc:
            log.warning("cannot remove %s: %s", INFO_FILE, exc)
        self.lock.release()


def info_path() -> Path:
    return paths.runtime_dir() / INFO_FILE


def acquire_single_instance() -> Instance | None:
    lock = _take_lock(paths.private_dir(paths.runtime_dir()) / LOCK_FILE)
    if lock is None:
        return None
    session = uuid.uuid4().hex
    since = datetime.now().astimezone()
    try:
        me = process_identity(os.getpid())
        if me is not None:
            since = datetime.fromtimestamp(me.created).astimezone()
            _write_info(me, session, since)
    except Exception as exc:  # psutil or the disk: the agent runs all the same, `vigie check` will say unknown
        log.error("cannot record the running agent in %s: %s", INFO_FILE, exc)
    return Instance(lock, session, since)


def _take_lock(path: Path) -> HeldLock | None:
    """The single-instance lock, or None when another agent holds it. Windows: filelock (LockFileEx)."""
    if sys.platform != "win32":
        lock = FlockLock(path)
        return lock if lock.acquire() else None
    from filelock import FileLock, Timeout

    windows_lock = FileLock(path)
    try:
        windows_lock.acquire(timeout=0)
    except Timeout:
        return None
    return windows_lock


def _write_info(me: ProcessIdentity, session: str, since: datetime) -> None:
    document = {"pid": me.pid, "created": me.created, "since_boot": me.since_boot, "command": list(me.command),
                "session": session, "since": since.isoformat(timespec="seconds")}
    paths.replace_private_file(info_path(), json.dumps(document))


@dataclass(frozen=True)
class Presence:
    """Whether the agent runs in this user's session: running None = could not tell (problem says why)."""

    running: bool | None
    pid: int | None = None
    since: datetime | None = None
    session: str | None = None
    problem: str | None = None


def running_agent() -> Presence:
    """The running agent, as its agent.json says and the OS confirms."""
    try:
        info = json.loads(info_path().read_text(encoding="utf-8"))
        recorded = ProcessIdentity(int(info["pid"]), float(info["created"]), float(info["since_boot"]),
                                   tuple(str(a) for a in info["command"]))
        since = datetime.fromisoformat(info["since"])
        session = str(info["session"])
    except FileNotFoundError:
        return Presence(running=False)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("%s unreadable: %s", INFO_FILE, exc)
        return Presence(running=None, problem=f"{INFO_FILE} unreadable: {exc}")
    try:
        live = process_identity(recorded.pid)
    except Exception as exc:  # psutil.Error: the OS will not tell
        log.error("cannot look at process %d: %s", recorded.pid, exc)
        return Presence(running=None, problem=f"process {recorded.pid}: {type(exc).__name__}")
    if live is None or not live.same_process(recorded):
        log.info("agent.json names process %d, which is no longer the agent", recorded.pid)
        return Presence(running=False)
    return Presence(running=True, pid=recorded.pid, since=since, session=session)
