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


class Walk:
    """Every entry under root (no symlinks followed), breadth first, within the limits. Stops quietly
    at a limit; unreadable folders are skipped (logged). Afterwards `entries` says how many entries
    were read and `complete` whether the whole tree was."""

    def __init__(self, root: str, limits: Limits, clock: Callable[[], float] = time.monotonic,
                 skip: Callable[[os.DirEntry], bool] = lambda entry: False) -> None:
        self.root, self.limits, self.clock, self.skip = root, limits, clock, skip
        self.entries, self.complete = 0, True

    def __iter__(self) -> Iterator[os.DirEntry]:
        deadline = self.clock() + self.limits.max_seconds
        folders = deque([self.root])
        while folders:
            try:
                with os.scandir(folders.popleft()) as entries:
                    for entry in entries:
                        if self.entries >= self.limits.max_entries or self.clock() > deadline:
                            self.complete = False
                            log.info("scan: stopped after %d entries (limit)", self.entries)
                            return
                        self.entries += 1
                        if self.skip(entry):
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            folders.append(entry.path)
                        yield entry
            except OSError as exc:
                log.info("scan: folder skipped: %s", exc.strerror)


def walk_files(root: str, limits: Limits, clock: Callable[[], float] = time.monotonic,
               skip: Callable[[os.DirEntry], bool] = lambda entry: False) -> Iterator[os.DirEntry]:
    """Every regular file under root, within the limits (see Walk)."""
    return (entry for entry in Walk(root, limits, clock, skip) if entry.is_file(follow_symlinks=False))


def newest_mtime(root: str, limits: Limits, clock: Callable[[], float] = time.monotonic,
                 skip: Callable[[os.DirEntry], bool] = lambda entry: False) -> NewestFile:
    """The newest modification time under root, breadth first, skipped entries left out. Folders
    count too (adding a file changes its folder's time), but only the folder that holds the file: a
    write deep in a tree larger than the limits may be missed, and the result then says it is incomplete."""
    walk, newest = Walk(root, limits, clock, skip), None
    for entry in walk:
        try:
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # renamed or removed meanwhile (a backup at work): the rest still counts
        newest = stat.st_mtime if newest is None else max(newest, stat.st_mtime)
    return NewestFile(newest, walk.entries, walk.complete)
