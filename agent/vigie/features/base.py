"""The Feature contract: what a feature declares, the hooks the core calls, the Services it is handed.

A feature is one folder under vigie/features/ holding what is that feature's alone: its checks,
watchers, guard, windows, CLI, events and text. The core (cli.py, app.py, engine.py) loops over
ALL_FEATURES (features/__init__.py) and names none of them.

Declarations (class attributes: read without starting anything, by `vigie check` and the CLI too):
    id        the feature's name; its menu items and notification buttons are routed as "id:action"
    checks    its Check objects (evaluated on the checks thread by the engine)
    handles   the event types its guard consumes: its own, and core ones (SessionLocked, VolumeAdded…)
    menu      its tray menu items (the same tuple as its light menu.py, listed in MENU_OWNERS)
    windows   its `vigie ui NAME` windows, each run in a child process
    command   its `vigie COMMAND …` sub-command, or None (add_cli builds it, run_cli runs it)

Hooks, with the thread each runs on (the agent only; nothing here runs for `vigie check`):
    __init__(services)   start thread, while the core is built: cheap, starts no thread
    start()              start thread, once, after the icon shows: starts the feature's watchers
    handle(event)        engine thread, for each event whose type is in `handles`: must not block
    act(action)          engine thread: one of its menu items or notification buttons was used
    menu_line(findings)  engine thread: an optional inactive line at the top of the tray menu
    claims_volume(volume)  engine thread: this drive is the feature's own (an enrolled backup drive),
                         so other features leave it alone (no stranger-drive warning)
    wants_volume_events()  start thread, at start: the core then runs the volume watch
    stop()               main thread, at shutdown: ends its watchers and timers, returns quickly
Watchers run on threads of their own and only ever call `services.submit` (or other thread-safe
services); everything that decides runs in handle()/act() on the engine thread, so a guard needs no lock.
"""

from __future__ import annotations

import argparse
import gettext
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from vigie.model import T, Text

if TYPE_CHECKING:  # annotations only: `vigie check` and the windows' processes stay light
    from vigie.check import Check
    from vigie.config.schema import Config
    from vigie.events import Event
    from vigie.journal import Journal
    from vigie.model import Finding
    from vigie.notify import Notification
    from vigie.platform.base import Platform, Volume
    from vigie.ui.children import ChildWindows


# Said by a command that changed a setting: the running agent reads its settings at start.
NEXT_START = T("The agent (the icon next to the clock) takes it into account at its next start.")


class Place(Enum):
    """Where a feature's item sits in the tray menu."""

    URGENT = "urgent"  # right under « Verrouiller maintenant »
    TOOLS = "tools"  # under « Vérifier maintenant »


@dataclass(frozen=True)
class MenuItem:
    label: Text
    action: str  # the feature's own action name: act(action) is called on the engine thread
    place: Place = Place.TOOLS
    only_while: str | None = None  # shown only while the tooltip note with this key is set (Services.set_note)
    hidden_while: str | None = None  # hidden while it is set


@dataclass(frozen=True)
class Window:
    """A `vigie ui NAME` window: `add_arguments` declares its options, `main` runs it (in the child)."""

    name: str
    help: str | Text
    main: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


@dataclass
class Services:
    """What the core hands a feature. Thread-safe: submit, notify, withdraw, windows, clock.
    The others are for the engine thread (handle / act), where the guard lives. The engine replaces
    config, tr and language when the settings change while the agent runs (events.SettingsChanged);
    a feature that keeps a value of its own from them declares SettingsChanged and updates it."""

    submit: Callable[[Event], None]
    notify: Callable[[Notification], None]
    withdraw: Callable[[str], None]  # remove the notification sent with this tag
    lock_now: Callable[[], None]  # lock the screen; SessionLocked follows once seen locked, else LockFailed
    set_note: Callable[[str, Text | None], None]  # a short state in the tooltip (None removes it)
    run_checks: Callable[[Sequence[str]], None]  # evaluate these checks again (on the checks thread)
    plan: Callable[[str, float | None, Event], None]  # submit the event after that long (one timer per key)
    findings: Callable[[], Mapping[str, Finding]]  # the latest finding of every check
    volume_claimed: Callable[[Volume], bool]  # some feature says this drive is its own
    windows: ChildWindows
    journal: Journal
    platform: Platform
    config: Config
    clock: Callable[[], datetime]
    tr: gettext.NullTranslations
    language: str


class Feature:
    """Base of every feature: declarations empty, hooks doing nothing."""

    id: ClassVar[str]
    checks: ClassVar[tuple[Check, ...]] = ()
    handles: ClassVar[tuple[type[Event], ...]] = ()
    menu: ClassVar[tuple[MenuItem, ...]] = ()
    windows: ClassVar[tuple[Window, ...]] = ()
    command: ClassVar[str | None] = None

    def __init__(self, services: Services) -> None:
        self.services = services

    @staticmethod
    def add_cli(sub: argparse._SubParsersAction) -> None:
        """Declare the feature's sub-command (only when `command` is set)."""

    @staticmethod
    def run_cli(args: argparse.Namespace, cli: CliContext) -> int:
        """Run the feature's sub-command; the exit code."""
        raise NotImplementedError

    def start(self) -> None:
        pass

    def handle(self, event: Event) -> None:
        pass

    def act(self, action: str) -> None:
        pass

    def menu_line(self, findings: Mapping[str, Finding]) -> Text | None:
        return None

    def claims_volume(self, volume: Volume) -> bool:
        return False

    def wants_volume_events(self) -> bool:
        return False

    def stop(self) -> None:
        pass


class CliContext:
    """What a sub-command may need, loaded only when asked for (`vigie incident` needs no settings)."""

    def __init__(self, explicit_language: str | None) -> None:
        self.explicit_language = explicit_language
        self._loaded = None

    @property
    def loaded(self):
        from vigie.config import ConfigStore

        if self._loaded is None:
            self._loaded = ConfigStore().load()
        return self._loaded

    @property
    def language(self) -> str:
        from vigie.i18n import resolve_language

        return resolve_language(self.explicit_language, self.loaded.config.general.language)

    @property
    def tr(self) -> gettext.NullTranslations:
        from vigie.i18n import translator

        return translator(self.language)
