"""Reading files out of a backup without ever following a link or opening a special file.

A backup drive may hold anything under a document's name: a link to /dev/zero, a device node,
a FIFO, a socket, a folder that is only a link to somewhere else. Reading one of those would fill
the disk, block for ever, or compare the originals with themselves. So every entry is looked at
with lstat first (never opened unless it is a regular file), opened without following links, and
read only up to the size it announced.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from vigie.errors import VigieError
from vigie.model import T

log = logging.getLogger(__name__)
BLOCK = 1 << 20
STOPPED_REASON = T("the test was stopped because Vigie was closing")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READ_FLAGS = (os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_SWAPPED = {errno.ELOOP, errno.EMLINK, errno.ENOTDIR}  # O_NOFOLLOW met a link (EMLINK on BSD and macOS)
# Windows: symbolic links and junctions lead elsewhere; other reparse points (OneDrive's files on
# demand, deduplicated files) are files in their own right.
_LINK_TAGS = {0xA000000C, 0xA0000003}  # IO_REPARSE_TAG_SYMLINK, IO_REPARSE_TAG_MOUNT_POINT
_WALK_WITH_DIR_FD = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd  # POSIX, not Windows


class Interrupted(VigieError):
    """Raised inside a copy loop when the drill is asked to stop (the agent is quitting)."""

    def __init__(self, log_detail: str = "") -> None:
        super().__init__(STOPPED_REASON, log_detail)


class Kind(Enum):
    REGULAR = "regular"
    FOLDER = "folder"
    MISSING = "missing"  # nothing under that name (or a folder on the way is missing)
    LINK = "link"  # a symbolic link (or a Windows junction) here or on the way: never followed
    SPECIAL = "special"  # a device, FIFO, socket, or a file where a folder should be


@dataclass(frozen=True)
class Opened:
    """The outcome of open_regular: an open file descriptor on a regular file, or what was there."""
    kind: Kind
    fd: int | None = None
    size: int = 0
    mtime_ns: int = 0


def _kind(mode: int, reparse_tag: int = 0) -> Kind:
    if stat.S_ISLNK(mode) or reparse_tag in _LINK_TAGS:
        return Kind.LINK
    if stat.S_ISDIR(mode):
        return Kind.FOLDER
    return Kind.REGULAR if stat.S_ISREG(mode) else Kind.SPECIAL


def _lstat_kind(path: Path | str, dir_fd: int | None = None) -> Kind:
    try:
        info = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return Kind.MISSING
    return _kind(info.st_mode, getattr(info, "st_reparse_tag", 0))


def _plain(parts: Sequence[str]) -> bool:
    """Names only: no "..", no separator, nothing that could lead out of the root."""
    return all(part not in ("", ".", "..") and "/" not in part and os.sep not in part for part in parts)


def kind_of(root: Path, parts: Sequence[str]) -> Kind:
    """What root/parts… is, looked at with lstat component by component (nothing followed, nothing
    opened). The first link, missing or non-folder component on the way decides."""
    path = root
    for index, part in enumerate(parts):
        path = path / part
        kind = _lstat_kind(path)
        if index == len(parts) - 1 or kind != Kind.FOLDER:
            return Kind.SPECIAL if kind == Kind.REGULAR and index < len(parts) - 1 else kind
    return Kind.FOLDER


def open_regular(root: Path, parts: Sequence[str]) -> Opened:
    """Open root/parts… for reading if, and only if, every component on the way is a real folder
    (no link) and the last one a regular file. root itself may be reached through links (it is
    the folder the user enrolled). Raise OSError for an input/output error."""
    if not parts:
        return Opened(Kind.FOLDER)
    if not _plain(parts):
        return Opened(Kind.SPECIAL)
    if not _WALK_WITH_DIR_FD:  # Windows: lstat each component, then check the opened file again
        kind = kind_of(root, parts)
        if kind != Kind.REGULAR:
            return Opened(kind)
        return _checked_open(str(root.joinpath(*parts)), None, None)
    directory = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            kind = _lstat_kind(part, directory)
            if kind != Kind.FOLDER:
                return Opened(Kind.SPECIAL if kind == Kind.REGULAR else kind)
            try:
                inner = os.open(part, _DIR_FLAGS | _NOFOLLOW, dir_fd=directory)
            except OSError as exc:
                if exc.errno in _SWAPPED:
                    return Opened(Kind.LINK)  # swapped for a link since the lstat
                raise
            os.close(directory)
            directory = inner
        try:
            before = os.stat(parts[-1], dir_fd=directory, follow_symlinks=False)
        except FileNotFoundError:
            return Opened(Kind.MISSING)
        if _kind(before.st_mode) != Kind.REGULAR:
            return Opened(_kind(before.st_mode))  # a device, FIFO, socket or link is never opened
        return _checked_open(parts[-1], directory, before)
    finally:
        os.close(directory)


def _checked_open(name: str, directory: int | None, before: os.stat_result | None) -> Opened:
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=directory) if directory is not None else os.open(name, _READ_FLAGS)
    except FileNotFoundError:
        return Opened(Kind.MISSING)
    except OSError as exc:
        if _NOFOLLOW and exc.errno in _SWAPPED:
            return Opened(Kind.LINK)  # swapped for a link since the lstat
        raise
    info = os.fstat(fd)
    same = before is None or (info.st_dev, info.st_ino) == (before.st_dev, before.st_ino)
    if not stat.S_ISREG(info.st_mode) or not same:  # swapped since the lstat
        os.close(fd)
        return Opened(Kind.SPECIAL)
    return Opened(Kind.REGULAR, fd, info.st_size, info.st_mtime_ns)


def parts_under(root: Path, path: Path) -> tuple[str, ...]:
    return path.relative_to(root).parts


def copy_to(fd: int, target: Path, limit: int, stopped: Callable[[], bool]) -> bool:
    """Copy the open file into a new private file, at most `limit` bytes. False when the file holds
    more than that (it grew): the copy is then incomplete and must not be trusted."""
    written = 0
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_BINARY", 0), 0o600)
    try:
        while True:
            if stopped():
                raise Interrupted
            block = os.read(fd, min(BLOCK, limit + 1 - written))
            if not block:
                return True
            written += len(block)
            if written > limit:
                return False
            view = memoryview(block)
            while view:
                view = view[os.write(out, view):]
    finally:
        os.close(out)


def sha256_of_fd(fd: int, limit: int, stopped: Callable[[], bool] = lambda: False) -> str | None:
    """The SHA-256 of the open file, or None when it holds more than `limit` bytes."""
    digest, read = hashlib.sha256(), 0
    while True:
        if stopped():
            raise Interrupted
        block = os.read(fd, min(BLOCK, limit + 1 - read))
        if not block:
            return digest.hexdigest()
        read += len(block)
        if read > limit:
            return None
        digest.update(block)


def sha256_of(path: Path, limit: int, stopped: Callable[[], bool] = lambda: False) -> str | None:
    """The SHA-256 of a regular file (the last component is not followed), or None when it is not a
    regular file or holds more than `limit` bytes."""
    opened = open_regular(path.parent, (path.name,))
    if opened.fd is None:
        return None
    try:
        return sha256_of_fd(opened.fd, limit, stopped)
    finally:
        os.close(opened.fd)


def remove_specials(root: Path) -> tuple[int, int]:
    """Remove from a restore target everything that is neither a folder nor a regular file (a tool
    may restore links, devices, FIFOs); never follows links. Return (removed, bytes of the regular
    files left)."""
    removed = total = 0
    for folder, folders, files in os.walk(root, followlinks=False):
        for name in (*folders, *files):
            path = os.path.join(folder, name)
            info = os.stat(path, follow_symlinks=False)
            kind = _kind(info.st_mode, getattr(info, "st_reparse_tag", 0))
            if kind == Kind.REGULAR:
                total += info.st_size
            elif kind != Kind.FOLDER:
                with contextlib.suppress(OSError):
                    os.unlink(path)
                    removed += 1
    if removed:
        log.warning("drill: %d links or special files removed from the restored copies", removed)
    return removed, total
