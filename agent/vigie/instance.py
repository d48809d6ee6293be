"""One agent per user session: an OS file lock in the user's runtime directory (released by the
OS if the agent dies, so a crash never blocks the next start)."""

from __future__ import annotations

from filelock import FileLock, Timeout

from vigie import paths


def acquire_single_instance() -> FileLock | None:
    lock = FileLock(paths.private_dir(paths.runtime_dir()) / "agent.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock
