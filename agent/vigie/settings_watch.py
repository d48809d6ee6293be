"""The running agent follows its settings (issue 18, point 3): what the settings window or `vigie config set`
stores, and what the IT provider writes in the policy file, applies within a second or two, without a restart.

Cheap by construction: every WATCH_SECONDS the watch only stats two files, the marker that every settings
write rewrites (paths.settings_marker, see config.store.announce_change) and the policy file. When either
changed (and stays so for SETTLE_SECONDS: a file edited in place is not read half written), the settings are
read again the way they were at start (a `vigie config export` child off Windows, so that the agent never
loads the keyring stack; in this process on Windows) and handed to `on_change`. When only the policy file
changed, the policy alone is read again (in this process: a small TOML file) over the user's settings read
before, which takes no process and no keyring call. A read that failed, or that
found the keyring unusable (the settings would fall back to their defaults), is never applied: the previous
settings stay, and the log says why. The watch runs on a thread of its own and calls `on_change` from it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from vigie import paths
from vigie.config import LoadedConfig, policy, store
from vigie.config.keyring_access import KEYRING_PROBLEMS
from vigie.errors import VigieError
from vigie.model import T
from vigie.platform import PlatformError, platform_name, proc
from vigie.ui.children import vigie_command

log = logging.getLogger(__name__)
WATCH_SECONDS = 0.5  # two stat() calls: a change applies well within the 2 s the issue asks for
READ_TIMEOUT = 30.0
SETTLE_SECONDS, SETTLE_LOOKS = 0.1, 5

Fingerprint = tuple[tuple[int, int, int, int] | None, ...]


class SettingsUnreadable(VigieError):
    """The settings could not be read again: the previous ones stay (said in the log only)."""

    def __init__(self, log_detail: str) -> None:
        super().__init__(T("Vigie could not read its settings again."), log_detail)


def read_config_again(timeout: float = READ_TIMEOUT) -> LoadedConfig:
    """The settings as they are stored now, read the way the agent read them at start (app.load_config: a
    child off Windows, in this process on Windows); SettingsUnreadable when that read failed."""
    loaded = _read_in_process() if platform_name() == "windows" else _read_in_child(timeout)
    unusable = [p.code for p in loaded.problems if p.code in KEYRING_PROBLEMS]
    if unusable:  # the keyring could not be read: these are the defaults, not the user's settings
        raise SettingsUnreadable(f"keyring unusable ({', '.join(unusable)})")
    return loaded


def _read_in_child(timeout: float) -> LoadedConfig:
    try:
        result = proc.run(vigie_command("config", "export"), timeout)
        return LoadedConfig.from_json(result.stdout)
    except (PlatformError, ValueError, KeyError, msgspec.ValidationError) as exc:
        raise SettingsUnreadable(str(exc)) from exc


def _read_in_process() -> LoadedConfig:
    from vigie.config.store import ConfigStore  # Windows: Credential Manager is one bounded Win32 call

    try:
        return ConfigStore().load()
    except Exception as exc:  # the store answers keyring faults itself: anything else keeps the old settings
        raise SettingsUnreadable(f"{type(exc).__name__}: {exc}") from exc


def watched_files() -> tuple[Path, Path]:
    return paths.settings_marker(), policy.policy_path()


def fingerprint(files: Sequence[Path]) -> Fingerprint:
    """What stat() says of each file (None: absent or unreadable); a rewrite changes its inode or time."""
    seen = []
    for path in files:
        try:
            st = os.stat(path)
            seen.append((st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size))
        except OSError:
            seen.append(None)
    return tuple(seen)


class SettingsWatch:
    def __init__(self, on_change: Callable[[LoadedConfig], None],
                 read: Callable[[], LoadedConfig] = read_config_again,
                 files: Sequence[Path] | None = None, interval: float = WATCH_SECONDS,
                 current: Callable[[], LoadedConfig | None] = lambda: None) -> None:
        """`files`: the marker first, the policy file last; `current`: the settings in force (the last applied)."""
        self.on_change = on_change
        self.read = read
        self.current = current
        self.files = tuple(files or watched_files())
        self.interval = interval
        self._seen = fingerprint(self.files)  # taken before the start's own read: no change falls between
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="vigie-settings-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.look()
            except Exception:  # the watch must outlive one bad read or one feature's bug
                log.exception("settings watch: unexpected error")

    def look(self) -> bool:
        """Read and apply the settings if a watched file changed since the last look; whether they were."""
        now = fingerprint(self.files)
        if now == self._seen:
            return False
        now = self._settled(now)
        policy_only = now[:-1] == self._seen[:-1]
        self._seen = now  # a change made during the read below is seen at the next look
        try:
            loaded = self._read_again(policy_only)
        except SettingsUnreadable as exc:
            log.error("settings not applied, the previous ones stay: %s", exc.log_detail)
            return False
        if self._stop.is_set():
            return False
        self.on_change(loaded)
        return True

    def _read_again(self, policy_only: bool) -> LoadedConfig:
        current = self.current()
        if policy_only and current is not None and current.user_config is not None:  # built on a keyring read
            log.info("settings changed: the policy file, applied again over the user's settings")
            return store.policy_again(current, self.files[-1])
        log.info("settings changed: reading them again")
        return self.read()

    def _settled(self, now: Fingerprint) -> Fingerprint:
        """A policy file edited in place may be caught half written: wait until two looks SETTLE_SECONDS apart
        agree (a few at most), so that a half file never unlocks, even briefly, what the whole one locks."""
        for _ in range(SETTLE_LOOKS):
            if self._stop.wait(SETTLE_SECONDS):
                break
            again = fingerprint(self.files)
            if again == now:
                break
            now = again
        return now
