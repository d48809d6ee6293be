"""The running agent's settings watch on Windows, under Wine: a change stored through Credential Manager
(`vigie config set` in its own process, as the settings window does) is seen by its marker, read again in
the agent's own process, never by a `vigie config export` child (seconds under Wine), and applied."""

from __future__ import annotations

import subprocess
import sys

from vigie import settings_watch
from vigie.config.store import ConfigStore
from vigie.platform import proc

WAIT = 180


def vigie(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vigie", *args], capture_output=True, timeout=WAIT)


def test_a_stored_change_is_read_again_in_the_agents_process(monkeypatch):
    children: list[tuple] = []
    monkeypatch.setattr(proc, "run", lambda *args, **kwargs: children.append(args))  # spy: none expected
    applied = []
    watch = settings_watch.SettingsWatch(applied.append)
    assert ConfigStore().load().config.idle_lock.lock_after_seconds != 417
    try:
        assert vigie("config", "set", "idle_lock.lock_after_seconds", "417").returncode == 0
        assert watch.look()
        assert [loaded.config.idle_lock.lock_after_seconds for loaded in applied] == [417]
        assert not applied[0].read_only and children == []
        assert not watch.look()  # nothing changed since: nothing read again
    finally:
        vigie("config", "reset", "idle_lock")
