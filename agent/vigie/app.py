"""The agent: wiring only. The tray (main thread) first; then, on the start thread, platform → settings →
engine and scheduler threads."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from vigie import paths
from vigie.events import CHECK_NOW, LOCK_NOW, SHOW_STATUS
from vigie.features.base import MenuItem, Place
from vigie.i18n import render, resolve_language, translator
from vigie.model import TN, Finding, Severity, T, Text
from vigie.platform import platform_name
from vigie.ui.children import ChildWindows, asked_command, vigie_command
from vigie.ui.icons import icon_file, load_icon
from vigie.ui.tray import MAX_PROBLEM_LINES, TrayEntry

# The icon comes first: what only the core needs (engine, checks, features, notifier, journal, the OS
# module) is imported on the start thread while the tray shows (issue 21), hence inside the functions.
if TYPE_CHECKING:
    from vigie.config import LoadedConfig
    from vigie.engine import Engine, Status
    from vigie.instance import Instance
    from vigie.journal import Journal
    from vigie.notify import Notification
    from vigie.settings_watch import SettingsWatch

log = logging.getLogger(__name__)
SNOOZE_REPEATS = 2  # « Plus tard » puts a warning's reminder off for two of its usual intervals (8 h by default)
SETTLED_AFTER_SECONDS = 60.0  # the first checks are done: what start-up freed can go back to the OS


def now() -> datetime:
    return datetime.now().astimezone()


def overall_severity(findings: Mapping[str, Finding]) -> Severity:
    """The icon's state: a problem outranks "could not check", then "good to know", then all fine."""
    severities = {f.severity for f in findings.values()}
    for severity in (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN, Severity.INFO):
        if severity in severities:
            return severity
    return Severity.OK if severities else Severity.UNKNOWN


def tooltip(findings: Mapping[str, Finding], notes: Mapping[str, Text] | None = None) -> Text:
    text = _state_tooltip(findings)
    for note in (notes or {}).values():
        text = T("{state} — {note}", state=text, note=note)
    return text


def _state_tooltip(findings: Mapping[str, Finding]) -> Text:
    problems = sum(f.severity in (Severity.WARNING, Severity.CRITICAL) for f in findings.values())
    unknown = sum(f.severity == Severity.UNKNOWN for f in findings.values())
    if problems:
        return TN("Vigie: {n} point to check", "Vigie: {n} points to check", problems)
    if unknown:
        return TN("Vigie: {n} check could not be done", "Vigie: {n} checks could not be done", unknown)
    info = sum(f.severity == Severity.INFO for f in findings.values())
    if info:
        return TN("Vigie: nothing to fix, {n} thing to know", "Vigie: nothing to fix, {n} things to know", info)
    return T("Vigie: all is well") if findings else T("Vigie: checking…")


PROBLEM_WORDS = {Severity.CRITICAL: T("Urgent"), Severity.WARNING: T("Warning")}
LINE_CHARACTERS = 90  # a menu line longer than this is cut with « … »


def problem_lines(findings: Mapping[str, Finding], labels: Mapping[str, Text], room: int) -> list[Text]:
    """The tray menu's lines, one per problem, the urgent first: « Attention — Sauvegardes : … ».
    At most `room` lines: the last then says how many more there are."""
    problems = sorted((f for f in findings.values() if f.severity in PROBLEM_WORDS),
                      key=lambda f: (-f.severity, f.check_id))
    lines = [T("{state} — {check}: {title}", state=PROBLEM_WORDS[f.severity],
               check=labels.get(f.check_id, T("Vigie")), title=f.title) for f in problems]
    if len(lines) > room:
        more = len(lines) - room + 1
        lines = [*lines[:room - 1], TN("… and {n} more point: see the status", "… and {n} more points: see the status",
                                       more)]
    return lines


def cut_line(text: str, room: int = LINE_CHARACTERS) -> str:
    return text if len(text) <= room else text[:room - 1].rstrip() + "…"


def tray_entries(menus: Sequence[tuple[str, Sequence[MenuItem]]]) -> list[TrayEntry]:
    """The tray menu: « Verrouiller maintenant » first, urgent feature items, the core's, feature tools.
    menus: (feature id, its items), in the features' order (vigie.features.menus())."""
    def items(place: Place) -> list[TrayEntry]:
        return [TrayEntry(i.label, f"{feature_id}:{i.action}", only_while=i.only_while, hidden_while=i.hidden_while)
                for feature_id, menu in menus for i in menu if i.place == place]

    return [TrayEntry(T("Lock now"), LOCK_NOW, default=True), *items(Place.URGENT),
            TrayEntry(T("Security status…"), SHOW_STATUS), TrayEntry(T("Check now"), CHECK_NOW), *items(Place.TOOLS)]


def locker_argv(command: str) -> list[str]:
    """The configured locker as arguments; unbalanced quotes are logged and the setting left unused
    (the idle_lock check says it is not valid), never a crash at start."""
    try:
        return shlex.split(command)
    except ValueError as exc:
        log.error("lock.locker_command ignored (%s): %r", exc, command)
        return []


class NotificationIcons(Mapping[Severity, Path]):
    """Notification daemons want icon files: one per state, each copied from the shipped pictures into the
    runtime folder the first time a notification needs it (most states are never notified in a session).
    A copy, not the package's file: Windows' balloons need an .ico made beside it (notify.ico_beside), and
    the install folder is read-only."""

    def __init__(self) -> None:
        self._paths: dict[Severity, Path | None] = {}
        self._lock = threading.Lock()  # the notifier's thread and the balloon thread may ask at once

    def __getitem__(self, severity: Severity) -> Path:
        with self._lock:
            if severity not in self._paths:
                self._paths[severity] = self._copy(Severity(severity))
            path = self._paths[severity]
        if path is None:
            raise KeyError(severity)
        return path

    def __iter__(self) -> Iterator[Severity]:
        return iter(Severity)

    def __len__(self) -> int:
        return len(Severity)

    def written(self) -> list[Severity]:
        with self._lock:
            return [severity for severity, path in self._paths.items() if path is not None]

    @staticmethod
    def _copy(severity: Severity) -> Path | None:
        path = paths.runtime_dir() / f"vigie-{severity.name.lower()}.png"
        try:
            paths.private_dir(path.parent)
            try:
                path.write_bytes(icon_file(128, severity).read_bytes())
            except FileNotFoundError:  # a broken install: drawn instead (load_icon logs it)
                load_icon(128, severity).save(path)
            return path
        except OSError as exc:
            log.warning("cannot write the notification icon: %s", exc)
            return None


class Settings:
    """The settings, read on a thread of their own (see load_config): the tray is set up meanwhile
    (the `vigie config export` child took 320 ms, before anything was shown, issue 21)."""

    def __init__(self, load: Callable[[], LoadedConfig]) -> None:
        self._load = load
        self._loaded: LoadedConfig | None = None
        self._done = threading.Event()
        threading.Thread(target=self._read, name="vigie-settings", daemon=True).start()

    def _read(self) -> None:
        try:
            self._loaded = self._load()
        except Exception:  # load_config answers a bad read itself: this is a bug
            log.exception("settings: unexpected error")
        finally:  # get() never waits forever
            self._done.set()

    def get(self) -> LoadedConfig:
        self._done.wait()
        if self._loaded is None:
            raise RuntimeError("the settings could not be read")
        return self._loaded


class Agent:
    """The tray first (grey « ? »), on the main thread; once it shows, the journal (pystray's set-up thread),
    then, on the start thread, the core's modules, the settings watch and the OS module, then, once the
    settings arrive, the engine and the features.
    Menu clicks made before that are held, then replayed in order (`_held`)."""

    def __init__(self, settings: Settings, explicit_language: str | None, instance: Instance | None = None) -> None:
        from vigie.features import menus
        from vigie.ui.tray import Tray  # imports pystray: only here, never for `vigie check`

        self.settings = settings
        self.instance = instance
        self.loaded: LoadedConfig | None = None
        self._stop_reason: tuple[str, str | None] | None = None  # for the journal's agent_stopped
        self._explicit_language = explicit_language
        self.language = resolve_language(explicit_language)  # until the settings name one
        self.tr = translator(self.language)
        self.windows = ChildWindows()
        self.engine: Engine | None = None
        self.journal: Journal | None = None  # opened once the icon shows (_record_start)
        self._held: list[Callable[[], None]] | None = []  # None once the engine runs
        self._core_lock = threading.Lock()  # the core's start vs shutdown vs held clicks
        self._stopping = False
        self._last_status: Status | None = None
        self.notification_icons = NotificationIcons()
        self.settings_watch: SettingsWatch | None = None  # made on the start thread
        self.tray = Tray(self.tr, tray_entries(menus()), on_action=self._on_action, on_quit=self._quit_asked)
        self._core_thread = threading.Thread(target=self._start_core, name="vigie-start", daemon=True)
        self._core_error: Exception | None = None

    def run(self) -> None:
        # The icon first (grey « ? »), the core on its own thread: waiting for the settings on this thread
        # held the icon back by the settings child's whole run, and the core's imports by 200 ms (issue 21).
        try:
            self.tray.run(on_visible=self._tray_visible)
            if self._core_error is not None:  # raised where the core was started on this thread before
                raise self._core_error
        except BaseException as exc:
            from vigie import agent_status

            self._stop_reason = self._stop_reason or (agent_status.ERROR, type(exc).__name__)
            raise
        finally:
            self.shutdown()

    def _tray_visible(self, backend: str) -> None:
        """pystray's set-up thread, once the icon is shown: the core starts now, so that its imports do not
        hold the GIL while the tray sets itself up (the settings child has been reading since the start)."""
        self._record_start()
        log.info("tray visible backend=%s", backend)
        self._core_thread.start()

    def _record_start(self) -> None:
        """The journal and its agent_started row: on pystray's set-up thread once the icon shows (pystray joins
        that thread before run() returns, so shutdown sees them), or in shutdown if it came first."""
        with self._core_lock:
            if self.journal is not None:
                return
            from vigie import agent_status
            from vigie.journal import open_journal

            self.journal, _ = open_journal()
            if self.instance:
                agent_status.record_start(self.journal, self.instance, os.getpid())

    def _start_core(self) -> None:
        """Start thread: the core's parts, then, once the settings are read, the engine, then held clicks.
        A core that cannot start stops the tray: an icon with nothing behind it would protect no one."""
        try:
            self._prepare()
            self._build_and_start()
        except Exception as exc:
            log.exception("the agent's core could not start")
            self._core_error = exc
            self.tray.stop()

    def _prepare(self) -> None:
        """What needs no settings: the settings watch's first look (the settings child is reading), the
        OS module, every feature."""
        from vigie.platform import get_platform
        from vigie.settings_watch import SettingsWatch

        watch = SettingsWatch(self._settings_changed, current=lambda: self.loaded)
        with self._core_lock:
            if self._stopping:
                return
            self.settings_watch = watch
        self.platform = get_platform()
        from vigie.features import ALL_FEATURES  # every feature and its checks, while the settings are read

        self.features = ALL_FEATURES

    def _build_and_start(self) -> None:
        loaded = self.settings.get()
        with self._core_lock:
            if self._stopping:
                return
            self.loaded = loaded
            self.language = resolve_language(self._explicit_language, loaded.config.general.language)
            self.tr = translator(self.language)
            self.tray.set_translator(self.tr)
            self._build_core(loaded)
            self._start_features()
            held, self._held = self._held or [], None
            log.info("agent core started (%d held click(s))", len(held))
            for replay in held:  # in order, before any newer click
                replay()
        settle = threading.Timer(SETTLED_AFTER_SECONDS, self._settle_memory)
        settle.daemon = True
        settle.start()

    @staticmethod
    def _settle_memory() -> None:
        from vigie.platform.memory import release_free_memory

        log.info("memory after start-up: %s", "trimmed" if release_free_memory() else "nothing given back")

    def _build_core(self, loaded: LoadedConfig) -> None:
        from vigie.alerts import AlertPolicy
        from vigie.check import CheckContext
        from vigie.engine import Engine
        from vigie.events import SessionUnlocked
        from vigie.notify import Notifier
        from vigie.scheduler import Scheduler
        from vigie.snooze import Snoozes
        from vigie.volume_watch import VolumeWatcher

        config = loaded.config
        self.engine = Engine(
            self.features,
            CheckContext(self.platform, config, self.journal, clock=now),
            notify=self._notify,
            withdraw=lambda tag: self.notifier.withdraw(tag),
            policy=AlertPolicy(config.notifications, clock=now, snoozes=Snoozes(
                self.journal, now, timedelta(minutes=SNOOZE_REPEATS * config.notifications.repeat_minutes))),
            tr=self.tr,
            language=self.language,
            windows=self.windows,
            on_status=self._on_status,
            on_show_status=lambda: self.windows.open("status", "--lang", self.language,
                                                     on_message=self._status_window_asked),
            locker_command=locker_argv(config.lock.locker_command),
        )
        self.notifier = Notifier.default(self.notification_icons, self._on_action, self._server_probe())
        self.notifier.warm_up()
        self.scheduler = Scheduler(self.engine.submit, {c: getattr(config, c).interval_minutes
                                                        for c in self.engine.checks})
        self._engine_thread = threading.Thread(target=self.engine.run, name="vigie-engine", daemon=True)
        self.platform.on_unlock(lambda: self.engine.submit(SessionUnlocked()))  # Vigie's own locker exited
        self.volumes = VolumeWatcher(self.platform, self.engine.submit)

    def _start_features(self) -> None:
        features = self.engine.features.values()
        for feature in features:
            feature.start()
        self._engine_thread.start()
        if any(feature.wants_volume_events() for feature in features):
            # A daemon: it may sleep in the kernel until the next mount change, even at exit.
            threading.Thread(target=self.volumes.run, name="vigie-volumes", daemon=True).start()
        self.scheduler.start()
        from vigie.events import Tick

        self.engine.submit(Tick())  # a first full check at start
        self.settings_watch.start()

    def _settings_changed(self, loaded: LoadedConfig) -> None:
        """The settings watch's thread: new settings while running (window, `vigie config set`, the policy)."""
        with self._core_lock:
            if self._stopping or self.engine is None:
                return
            self.loaded = loaded
            self.language = resolve_language(self._explicit_language, loaded.config.general.language)
            self.tr = translator(self.language)
            self.tray.set_translator(self.tr)
            from vigie.events import SettingsChanged

            self.engine.submit(SettingsChanged(loaded.config, self.language, self.tr,
                                               tuple(locker_argv(loaded.config.lock.locker_command))))

    def _when_ready(self, what: str, action: Callable[[], None]) -> None:
        """Run `action` now if the engine runs, else once it does (a click before the settings arrived)."""
        with self._core_lock:
            if self._held is not None:
                log.info("%s held until the settings arrive", what)
                self._held.append(action)
                return
        action()

    def stop(self, reason: str | None = None) -> None:
        if reason:
            self._stop_reason = (reason, None)
        self.tray.stop()

    def _quit_asked(self) -> None:
        self._when_ready("quit", self._quit)

    def _quit(self) -> None:
        """« Quitter »: at once, unless the IT provider protects it with a code (checked in a window)."""
        from vigie import agent_status

        if not self.loaded.quit_code:
            self.stop(agent_status.QUIT)
            return
        self.windows.open("quit-code", "--lang", self.language, on_message=lambda message: self.stop(
            agent_status.QUIT_WITH_CODE) if message == "choice quit" else None)

    def shutdown(self) -> None:
        log.info("stopping")
        self._record_start()  # stopped before the icon showed: the start is journaled with the stop
        from vigie.platform import proc

        proc.stop_all()  # restic, borg, clamscan… end with Vigie, and no check or drill starts one now
        with self._core_lock:
            self._stopping = True
            engine = self.engine if self._held is None else None  # None: the core never finished starting
            watch, journal = self.settings_watch, self.journal  # None: stopped before the start thread had them
        if watch is not None:
            watch.stop()
        if engine is not None:
            from vigie.events import Stopped

            self.scheduler.stop()
            self.volumes.stop()
            for feature in engine.features.values():
                feature.stop()
            engine.submit(Stopped())
            self._engine_thread.join(10)
            self.notifier.stop()
        self.windows.close_all()
        if journal is not None:
            self._record_stop(journal)
            journal.close()

    def _record_stop(self, journal: Journal) -> None:
        from vigie import agent_status

        if not self.instance:
            return
        reason = self._stop_reason
        if reason is None and self.tray.stopped_by:
            reason = (agent_status.SIGNAL, self.tray.stopped_by)
        reason = reason or (agent_status.UNKNOWN, None)
        log.info("agent stopped reason=%s detail=%s", *reason)
        agent_status.record_stop(journal, self.instance.session, now(), *reason)

    def _on_action(self, action: str) -> None:
        """A menu item or a notification button: the engine routes it (any thread)."""
        self._when_ready(f"menu: {action}", lambda: self._submit_command(action))

    def _submit_command(self, action: str) -> None:
        from vigie.events import Command

        self.engine.submit(Command(action))

    def _status_window_asked(self, message: str) -> None:
        """A button of the status window (its reader thread): routed like the same menu item."""
        command = asked_command(message)
        if command is None:
            log.warning("status window: unexpected line ignored")
            return
        self._on_action(command)

    def _notify(self, notification: Notification) -> None:
        self.notifier.send(notification)

    def _on_status(self, status: Status) -> None:
        """Engine thread. The tray changes only what changed (Tray.show); the snapshot is written when
        the status differs or a check was run again (its time is the status window's « last check »)."""
        findings = status.findings
        labels = {check.id: check.label for check in self.engine.checks.values()}
        # The menu's problem lines before the tooltip: once the tooltip says N points, the menu has them.
        self.tray.show_problems([cut_line(render(line, self.tr))
                                 for line in problem_lines(findings, labels, MAX_PROBLEM_LINES)])
        self.tray.show(overall_severity(findings), render(tooltip(findings, status.notes), self.tr))
        self.tray.show_menu_line(render(status.menu_line, self.tr) if status.menu_line else "")
        self.tray.show_notes(frozenset(status.notes))  # menu items shown while a note is set
        if not self._snapshot_needed(status):
            return
        from vigie import report  # the snapshot's format: loaded with the first status, not at start

        checks = [self.engine.checks[i] for i in findings]
        document = report.to_json(checks, list(findings.values()), self.loaded, self.platform.name,
                                  self.language, self.tr, now())
        try:
            paths.replace_private_file(paths.status_snapshot(), document)
        except OSError as exc:
            log.error("cannot write the status snapshot: %s", exc)

    def _snapshot_needed(self, status: Status) -> bool:
        previous, self._last_status = self._last_status, status
        if previous is None or dict(previous.notes) != dict(status.notes) or previous.menu_line != status.menu_line:
            return True
        # The same findings objects: only a note was set again. New ones: a check ran (its time counts).
        return any(previous.findings.get(k) is not f for k, f in status.findings.items()) \
            or previous.findings.keys() != status.findings.keys()

    @staticmethod
    def _server_probe() -> Callable[[], bool] | None:
        if platform_name() != "linux":
            return None
        from vigie.platform.linux import notification_server_present

        return notification_server_present


def load_config(started: subprocess.Popen[str] | None = None) -> LoadedConfig:
    """The settings in force, read the cheapest safe way for this OS.

    Linux and macOS: through a child, so that the always-on agent never holds the keyring stack
    (Secret Service's D-Bus crypto, about 11 MB); `started`: that child, started by vigie.launch before
    the agent's imports. Windows: here, since Credential Manager is one small Win32 call (every keyring
    call is still bounded) while a second Python process costs seconds under Wine and on the slow disks
    of practice PCs (issue 17)."""
    if platform_name() == "windows":
        return load_config_in_process()
    return load_config_in_child(started=started)


def load_config_in_process() -> LoadedConfig:
    from vigie.config.store import ConfigStore  # the settings thread: beside the tray's start

    try:
        return ConfigStore().load()
    except Exception:  # the store answers keyring faults itself: anything else is logged, not fatal
        log.exception("configuration unavailable")
        return _policy_only()


def load_config_in_child(timeout: float = 30.0, started: subprocess.Popen[str] | None = None) -> LoadedConfig:
    """Read the configuration through `vigie config export` in a short-lived process (`started`: the one
    vigie.launch started before the agent's imports). What parses its answer is imported once it came:
    meanwhile the tray is setting up, and an import on this thread would hold the GIL against it."""
    from vigie.platform import PlatformError, proc

    try:
        result = proc.adopt(started, timeout) if started else proc.run(vigie_command("config", "export"), timeout)
    except PlatformError as exc:
        log.error("configuration unavailable: %s", exc)
        return _policy_only()
    import msgspec

    from vigie.config import LoadedConfig

    try:
        return LoadedConfig.from_json(result.stdout)
    except (ValueError, KeyError, msgspec.ValidationError) as exc:
        log.error("configuration unavailable: %s", exc)
        return _policy_only()


def _policy_only() -> LoadedConfig:
    """Defaults, read-only, under the IT provider's policy: it needs no keyring, so its locked values
    and quit code still hold when the settings cannot be read."""
    from vigie.config import Config, LoadedConfig, Problem, policy
    from vigie.config.keyring_access import KEYRING_PROBLEMS

    problem = Problem("keyring_error", KEYRING_PROBLEMS["keyring_error"])
    found = policy.read_policy(policy.policy_path())
    config, locked, _refused = policy.apply(Config(), found)
    log.info("running on defaults and the policy")  # the caller logged why
    return LoadedConfig(config, read_only=True, problems=[problem], locked=locked, quit_code=found.quit_code)


def run_agent(explicit_language: str | None, settings_child: subprocess.Popen[str] | None = None) -> int:
    from vigie.instance import acquire_single_instance

    instance = acquire_single_instance()  # the lock, and agent.json saying who holds it
    settings = Settings(lambda: load_config(settings_child))  # read on its own thread while the tray is set up
    if instance is None:
        loaded = settings.get()
        tr = translator(resolve_language(explicit_language, loaded.config.general.language))
        print(render(T("Vigie is already running: its icon is next to the clock."), tr))
        return 0
    from vigie.platform import windows_mutex  # no-ops elsewhere; on Windows before the tray exists

    windows_mutex.set_app_user_model_id()  # toasts and the tray balloon say "Vigie"
    windows_mutex.hold_app_mutexes()  # the installer's AppMutex: an upgrade waits for Vigie to quit
    try:
        agent = Agent(settings, explicit_language, instance)
        log.info("agent started (tray backend %s)", agent.tray.backend)
        agent.run()
    except Exception as exc:
        from vigie.ui.tray import TrayUnavailable

        if not isinstance(exc, TrayUnavailable):
            raise
        log.error("tray unavailable: %s", exc.log_detail)
        tr = translator(resolve_language(explicit_language, settings.get().config.general.language))
        print(render(T("Vigie cannot show its icon: {reason}", reason=exc.reason), tr), file=sys.stderr)
        print(render(T("The security report still works: vigie check"), tr), file=sys.stderr)
        instance.release()
        leave_now(1)
    finally:
        instance.release()
    return 0


def leave_now(code: int) -> NoReturn:
    """Exit without the interpreter's teardown: a tray that failed half-way leaves GLib's own threads
    (GDBus workers) running, and freeing memory under them aborted the process once in CI (glibc:
    « corrupted double-linked list », SIGABRT instead of exit code 1). Nothing else is left to clean up."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)
