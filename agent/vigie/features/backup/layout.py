"""Which originals a backup folder holds, and where: a backup usually keeps the folder it copies as
its own content or as a subfolder, and leaves some things out on purpose. A drill compares only
what the backup claims to hold, so a file it never meant to keep never raises an alarm.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from vigie import APP_NAME, paths
from vigie.features.backup.destination import MARKER
from vigie.features.backup.safe_read import Kind, kind_of

# Never meant to be in a backup: hidden files and folders (settings, caches, lock files), Office's
# owner files, temporary files, the desktop's thumbnails.
JUNK_NAMES = {"thumbs.db", "desktop.ini"}


def own_folders() -> set[tuple[int, int]]:
    """Vigie's own folders (journal, logs, cache, settings): never part of what a drill compares.
    Kept as (device, inode), so a path written another way still matches."""
    folders = {paths.data_dir(), paths.log_dir(), paths.drill_dir().parent,
               platformdirs.user_config_path(APP_NAME, appauthor=False)}
    found = set()
    for folder in folders:
        with contextlib.suppress(OSError):
            info = os.stat(folder)
            found.add((info.st_dev, info.st_ino))
    return found


def left_out(entry: os.DirEntry, own: set[tuple[int, int]]) -> bool:
    """Originals a backup is not meant to hold: hidden entries, Office owner files, temporary files,
    thumbnails, and Vigie's own folders."""
    name = entry.name.lower()
    if name.startswith((".", "~$")) or name.endswith(".tmp") or name in JUNK_NAMES:
        return True
    if entry.is_dir(follow_symlinks=False):
        try:
            info = os.stat(entry.path, follow_symlinks=False)  # DirEntry.stat gives no inode on Windows
        except OSError:
            return False
        return (info.st_dev, info.st_ino) in own
    return False


def layouts(originals: Path) -> list[tuple[str, ...]]:
    """Where a backup may keep the originals' folder: as its own content (BACKUP/…), as a subfolder
    of the same name (BACKUP/Documents/…), or under its whole path (BACKUP/home/u/Documents/…)."""
    found: list[tuple[str, ...]] = []
    for layout in ((), (originals.name,), originals.parts[1:]):
        if layout not in found and all(layout):
            found.append(layout)
    return found


def find_layout(backup: Path, originals: Path, relatives: Sequence[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The layout under which the backup holds most of the given originals (their files or their
    folders), or None when it holds none of them. Nothing is followed or opened."""
    folders = {rel[:-1] for rel in relatives if len(rel) > 1}
    best, best_score = None, 0
    for layout in layouts(originals):
        score = sum(kind_of(backup, layout + rel) != Kind.MISSING for rel in relatives)
        score += sum(kind_of(backup, layout + folder) != Kind.MISSING for folder in folders)
        if score > best_score:
            best, best_score = layout, score
    return best


class Claims:
    """Whether the backup claims to hold a file, judged by its folder: a folder the backup has (even
    as a link, which the drill then reports) is one it copied; one it lacks was left out on purpose
    (excluded, or another disk). The top folder always exists, so there it takes a regular file in it."""

    def __init__(self, backup: Path, layout: tuple[str, ...]) -> None:
        self.backup, self.layout = backup, layout
        self._known: dict[tuple[str, ...], bool] = {}

    def __call__(self, folder: tuple[str, ...]) -> bool:
        if folder not in self._known:
            self._known[folder] = self._claimed(folder)
        return self._known[folder]

    def _claimed(self, folder: tuple[str, ...]) -> bool:
        if folder:
            return kind_of(self.backup, self.layout + folder) != Kind.MISSING
        top = self.backup.joinpath(*self.layout)
        try:
            with os.scandir(top) as entries:
                return any(e.is_file(follow_symlinks=False) and not e.name.startswith((MARKER, f".{MARKER}"))
                           for e in entries)
        except OSError:
            return False
