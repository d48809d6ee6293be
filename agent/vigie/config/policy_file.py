"""Reading the IT provider's policy file, only when an administrator alone could have written it.

The policy can switch protections off (the idle lock, the USB warnings) and choose the screen locker,
so a file that an ordinary account could write or put in place is ignored:
- Linux, macOS: the file and every folder above it belong to root and only root may write them (no
  group or other write bit; a sticky /tmp-like folder is no exception). The folders are walked with
  one descriptor each (openat), so none can be swapped between the check and the read.
- Windows: the folder %ProgramData%\\Vigie and the file belong to SYSTEM or Administrators and their
  access lists let nobody else change them (platform/windows.py reads the security descriptors).
The file itself is never opened unless it is a regular file (a FIFO would block the read for ever),
is opened without following a link and without blocking, and at most `max_bytes` + 1 bytes are read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from vigie.errors import VigieError
from vigie.model import T, Text

OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC if os.name != "nt" else 0
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC if os.name != "nt" else 0


def untrusted(path: Path | str) -> Text:
    return T("The IT provider's settings file is ignored: “{path}” can be changed by an account other than "
             "an administrator.", path=str(path))


def not_a_file(path: Path | str) -> Text:
    return T("The IT provider's settings file is ignored: “{path}” is not an ordinary file.", path=str(path))


class PolicyRefused(VigieError):
    """The policy file exists but cannot be trusted (who may write it) or is not a regular file."""


def read_trusted(path: Path, max_bytes: int) -> bytes | None:
    """Up to max_bytes + 1 bytes of the file; None when it does not exist.

    Raises PolicyRefused when it must be ignored, OSError when it cannot be read."""
    if os.name == "nt":
        from vigie.platform.windows import file_security

        return read_windows(path, max_bytes, file_security)
    return read_posix(path, max_bytes)


# --- Linux, macOS --------------------------------------------------------------------------------

def read_posix(path: Path, max_bytes: int) -> bytes | None:
    # The real folder (/etc may be a link on macOS): every folder of it is then checked, link-free.
    folder = Path(os.path.realpath(path.parent))
    try:
        folder_fd = _open_root_only_folders(folder)
    except FileNotFoundError:
        return None
    try:
        try:
            info = os.stat(path.name, dir_fd=folder_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        _require_regular(info, folder / path.name)  # before open(): opening a FIFO or a device has effects
        file_fd = os.open(path.name, OPEN_FLAGS, dir_fd=folder_fd)
    finally:
        os.close(folder_fd)
    with os.fdopen(file_fd, "rb") as handle:
        info = os.fstat(file_fd)  # the file opened may not be the one looked at
        _require_regular(info, folder / path.name)
        _require_root_only(info, folder / path.name)
        return handle.read(max_bytes + 1)


def _open_root_only_folders(folder: Path) -> int:
    fd = os.open("/", FOLDER_FLAGS)
    current = Path("/")
    try:
        _require_root_only(os.fstat(fd), current)
        for part in folder.parts[1:]:
            current = current / part
            next_fd = os.open(part, FOLDER_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = next_fd
            _require_root_only(os.fstat(fd), current)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _require_regular(info: os.stat_result, path: Path) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise PolicyRefused(not_a_file(path), f"{path}: {stat.filemode(info.st_mode)}")


def _require_root_only(info: os.stat_result, path: Path) -> None:
    if info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise PolicyRefused(untrusted(path),
                            f"{path}: owner uid {info.st_uid}, mode {stat.filemode(info.st_mode)}")


# --- Windows -------------------------------------------------------------------------------------

SYSTEM = "S-1-5-18"
ADMINISTRATORS = "S-1-5-32-544"
TRUSTED_INSTALLER = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
ADMIN_SIDS = frozenset({SYSTEM, ADMINISTRATORS, TRUSTED_INSTALLER})
ACCESS_DENIED_TYPES = frozenset({1, 10})  # ACCESS_DENIED_ACE, ACCESS_DENIED_CALLBACK_ACE: they only take away
INHERIT_ONLY_ACE = 0x08  # applies to what will be created inside, not to the object itself
# Rights that let someone change the file, what the folder holds, or who may: FILE_WRITE_DATA /
# FILE_ADD_FILE, FILE_APPEND_DATA / FILE_ADD_SUBDIRECTORY, FILE_WRITE_EA, FILE_DELETE_CHILD,
# FILE_WRITE_ATTRIBUTES, DELETE, WRITE_DAC, WRITE_OWNER, MAXIMUM_ALLOWED, GENERIC_ALL, GENERIC_WRITE.
WRITE_RIGHTS = (0x0002 | 0x0004 | 0x0010 | 0x0040 | 0x0100 | 0x0001_0000 | 0x0004_0000 | 0x0008_0000
                | 0x0200_0000 | 0x1000_0000 | 0x4000_0000)
FILE_ATTRIBUTE_REPARSE_POINT = 0x400

Ace = tuple[int, int, int, str]  # (type, flags, access mask, SID as "S-1-…", "" when the type has none)
Security = Callable[[str], tuple[str, Sequence[Ace] | None]]  # path -> (owner SID, DACL or None if NULL)


def windows_write_problem(owner: str, dacl: Sequence[Ace] | None) -> str | None:
    """Why someone other than SYSTEM or Administrators could change the object; None if nobody can."""
    if owner not in ADMIN_SIDS:
        return f"owned by {owner}"  # an owner may always rewrite the access list
    if dacl is None:
        return "no access list: everyone has full control"
    for ace_type, flags, mask, sid in dacl:
        if ace_type in ACCESS_DENIED_TYPES or flags & INHERIT_ONLY_ACE:
            continue
        if mask & WRITE_RIGHTS and sid not in ADMIN_SIDS:
            return f"{sid or f'an entry of type {ace_type}'} may change it (rights {mask:#x})"
    return None


def read_windows(path: Path, max_bytes: int, security: Security) -> bytes | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode) or getattr(info, "st_file_attributes", 0) & FILE_ATTRIBUTE_REPARSE_POINT:
        raise PolicyRefused(not_a_file(path), f"{path}: mode {info.st_mode:#o}")
    for place in (path.parent, path):
        owner, dacl = security(str(place))
        problem = windows_write_problem(owner, dacl)
        if problem:
            raise PolicyRefused(untrusted(place), f"{place}: {problem}")
    with open(path, "rb") as handle:
        return handle.read(max_bytes + 1)
