"""Vigie's journal: a small SQLite database (WAL) in the user data directory, 0600."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from vigie import filenames, paths

log = logging.getLogger(__name__)
JOURNAL_FILE = "journal.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS known_volumes (
    identity TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    known_since TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS first_seen (
    check_id TEXT NOT NULL,
    item TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (check_id, item)
);
"""


class Journal:
    def __init__(self, path: Path | None = None) -> None:
        """Open (or create, 0600) the journal; raises OSError or sqlite3.Error when it cannot."""
        self.path = path or paths.data_dir() / JOURNAL_FILE
        if not self.path.exists():
            paths.private_dir(self.path.parent)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    @classmethod
    def in_memory(cls) -> Journal:
        """A journal that forgets everything on exit: used when the real one cannot be opened."""
        journal = cls.__new__(cls)
        journal.path = Path(":memory:")
        journal._db = sqlite3.connect(":memory:", check_same_thread=False)
        journal._db.executescript(_SCHEMA)
        return journal

    def close(self) -> None:
        self._db.close()

    def record(self, kind: str, at: datetime, **data: object) -> None:
        """An event kept as evidence (USB insertions, choices...): never personal file contents."""
        with self._db:
            self._db.execute("INSERT INTO events (at, kind, data) VALUES (?, ?, ?)",
                             (at.isoformat(timespec="seconds"), kind, filenames.dumps(data)))

    def events(self, kind: str | None = None) -> list[tuple[str, str, dict]]:
        rows = self._db.execute("SELECT at, kind, data FROM events WHERE ? IS NULL OR kind = ? ORDER BY id",
                                (kind, kind))
        return [(at, k, json.loads(data)) for at, k, data in rows]

    def remember_volume(self, identity: str, label: str, at: datetime) -> None:
        with self._db:
            self._db.execute("INSERT OR IGNORE INTO known_volumes (identity, label, known_since) VALUES (?, ?, ?)",
                             (identity, label, at.isoformat(timespec="seconds")))

    def is_known_volume(self, identity: str) -> bool:
        return self._db.execute("SELECT 1 FROM known_volumes WHERE identity = ?", (identity,)).fetchone() is not None

    def get_state(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_state(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT INTO state (key, value) VALUES (?, ?) "
                             "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def first_seen(self, check_id: str, items: Iterable[str], now: datetime) -> dict[str, datetime]:
        """When each item was first seen; items no longer present are forgotten."""
        wanted = set(items)
        with self._db:
            rows = self._db.execute("SELECT item, seen_at FROM first_seen WHERE check_id = ?", (check_id,))
            known = {item: datetime.fromisoformat(seen) for item, seen in rows}
            gone = [(check_id, item) for item in known.keys() - wanted]
            self._db.executemany("DELETE FROM first_seen WHERE check_id = ? AND item = ?", gone)
            new = wanted - known.keys()
            self._db.executemany(
                "INSERT INTO first_seen (check_id, item, seen_at) VALUES (?, ?, ?)",
                [(check_id, item, now.isoformat()) for item in sorted(new)],
            )
        return {item: known.get(item, now) for item in wanted}


def open_journal() -> tuple[Journal, str | None]:
    """The user's journal, or an in-memory one (and the reason) when it cannot be opened."""
    try:
        return Journal(), None
    except (OSError, sqlite3.Error) as exc:
        log.error("journal unavailable: %s", exc)
        return Journal.in_memory(), str(exc)
