"""Where Vigie keeps its files (platformdirs; XDG variables are honoured on Linux)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path

import platformdirs

from vigie import APP_NAME

log = logging.getLogger(__name__)


def data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def runtime_dir() -> Path:
    """Per-user, per-session files: the single-instance lock and the status snapshot (created, private).

    $XDG_RUNTIME_DIR/Vigie, else /run/user/UID/Vigie or $TMPDIR/runtime-UID/Vigie, when that folder is
    the user's own and private: platformdirs refuses one another account created or left open. Another
    account must neither stop Vigie from starting nor reach its files, so Vigie then uses a private
    folder in the user's cache, and says so in the log."""
    try:
        path = platformdirs.user_runtime_path(APP_NAME, appauthor=False, ensure_exists=True)
        problem = _own_private_dir(path)
    except OSError as exc:  # PermissionError: platformdirs found the folder unsafe
        problem = f"{type(exc).__name__}: {exc}"
    return path if problem is None else _fallback_runtime_dir(problem)


_fallback_lock = threading.Lock()
_reported: set[str] = set()
_last_resort: list[Path] = []


def _fallback_runtime_dir(problem: str) -> Path:
    cache = platformdirs.user_cache_path(APP_NAME, appauthor=False)
    folder = cache / "runtime"
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        trouble = _own_private_dir(cache) or _own_private_dir(folder)
    except OSError as exc:
        trouble = f"{type(exc).__name__}: {exc}"
    with _fallback_lock:
        if trouble is None:
            _log_once(logging.WARNING, f"runtime folder refused ({problem}): Vigie uses {folder}")
            return folder
        if not _last_resort:  # this process only: a second agent would not see this one's lock
            import tempfile  # here: shutil, bz2, lzma and random, 0.45 MB in each window on Windows (not on
            # Linux, where platformdirs imports it anyway)

            _last_resort.append(Path(tempfile.mkdtemp(prefix="vigie-runtime-")))
        _log_once(logging.ERROR, f"runtime folder refused ({problem}), and {trouble}: Vigie uses "
                                 f"{_last_resort[0]} for this run only")
        return _last_resort[0]


def _own_private_dir(path: Path) -> str | None:
    """Create path (0700), or accept it when it is already the user's own folder; else why not."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    if os.name == "nt":  # no POSIX owner: the user's profile folders are protected by their ACLs
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)  # a link is refused (ELOOP)
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    try:
        owner = os.fstat(fd).st_uid
        if owner != os.geteuid():
            return f"{path} belongs to uid {owner}"
        os.fchmod(fd, 0o700)  # the user's own: made private whatever the umask or an older Vigie did
    finally:
        os.close(fd)
    return None


def _log_once(level: int, message: str) -> None:
    if message not in _reported:
        _reported.add(message)
        log.log(level, message)


def status_snapshot() -> Path:
    """The agent's latest status, as a `vigie-check/1` JSON document (read by the status window)."""
    return runtime_dir() / "status.json"


def settings_marker() -> Path:
    """Rewritten by whatever stores a setting (the settings window, `vigie config set`): the running agent
    watches it and reads its settings again (vigie.settings_watch)."""
    return runtime_dir() / "settings-changed"


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
