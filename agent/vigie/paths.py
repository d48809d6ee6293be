"""Where Vigie keeps its files (platformdirs; XDG variables are honoured on Linux)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from vigie import APP_NAME


def data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def runtime_dir() -> Path:
    """Per-user, per-session files: the single-instance lock and the status snapshot."""
    return platformdirs.user_runtime_path(APP_NAME, appauthor=False)


def status_snapshot() -> Path:
    """The agent's latest status, as a `vigie-check/1` JSON document (read by the status window)."""
    return runtime_dir() / "status.json"


def drill_dir() -> Path:
    """Where restore drills put the files they restore, for a moment (private, emptied after)."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False) / "drill"


def quarantine_dir() -> Path:
    return data_dir() / "quarantine"


def private_dir(path: Path) -> Path:
    """Create a directory only the user can enter (it may hold personal data)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private_file(path: Path, content: str | bytes) -> None:
    """Write a new file readable by the user only (0600), whatever the umask (text is written as UTF-8)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content.encode("utf-8") if isinstance(content, str) else content)


def replace_private_file(path: Path, text: str) -> None:
    """Atomically replace a 0600 file: a reader never sees half of it."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)
