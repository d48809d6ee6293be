"""Bounded walks of a folder tree: a cap on entries and on seconds, breadth first.

A backup drive or a NAS share may hold millions of files behind a slow link: Vigie looks at a
bounded part of it and says so, rather than freezing on it.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_entries: int = 20_000
    max_seconds: float = 0.5


@dataclass(frozen=True)
class NewestFile:
    mtime: float | None  # newest modification time seen (files and folders), None when empty
    entries: int
    complete: bool  # False when a limit stopped the walk


def walk_files(root: str, limits: Limits, clock: Callable[[], float] = time.monotonic,
               skip: Callable[[os.DirEntry], bool] = lambda entry: False) -> Iterator[os.DirEntry]:
    """Every regular file under root (no symlinks followed), breadth first, within the limits.

    Stops quietly at a limit; unreadable folders are skipped (logged). A caller that needs to know
    whether the walk was complete uses newest_mtime(), which counts."""
    deadline = clock() + limits.max_seconds
    folders, seen = deque([root]), 0
    while folders:
        try:
            with os.scandir(folders.popleft()) as entries:
                for entry in entries:
                    seen += 1
                    if seen > limits.max_entries or clock() > deadline:
                        return
                    if skip(entry):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        yield entry
        except OSError as exc:
            log.info("scan: folder skipped: %s", exc.strerror)


def newest_mtime(root: str, limits: Limits, clock: Callable[[], float] = time.monotonic) -> NewestFile:
    """The newest modification time under root, breadth first. Folders count too (adding a file
    changes its folder's time), but only the folder that holds the file: a write deep in a tree
    larger than the limits may be missed, and the result then says it is incomplete."""
    deadline = clock() + limits.max_seconds
    folders, seen, newest = deque([root]), 0, None
    while folders:
        try:
            with os.scandir(folders.popleft()) as entries:
                for entry in entries:
                    seen += 1
                    if seen > limits.max_entries or clock() > deadline:
                        log.info("scan: stopped after %d entries (limit)", seen - 1)
                        return NewestFile(newest, seen - 1, complete=False)
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue  # renamed or removed meanwhile (a backup at work): the rest still counts
                    newest = stat.st_mtime if newest is None else max(newest, stat.st_mtime)
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
        except OSError as exc:
            log.info("scan: folder skipped: %s", exc.strerror)
    return NewestFile(newest, seen, complete=True)
