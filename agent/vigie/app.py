"""The agent: wiring only. Configuration → platform → engine and scheduler threads → tray (main thread)."""

from __future__ import annotations

import logging
import shlex
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import msgspec

from vigie import paths, report
from vigie.alerts import AlertPolicy
from vigie.check import CheckContext
from vigie.config import Config, LoadedConfig, Problem, policy
from vigie.config.store import KEYRING_PROBLEMS
from vigie.engine import EJECT_BACKUP_ACTION, PRESENT_ACTION, SHOW_STATUS_ACTION, Engine
from vigie.events import Command, CommandKind, IncidentChanged, SessionUnlocked, Stopped, Tick
from vigie.features import ALL_CHECKS
from vigie.i18n import render, resolve_language, translator
from vigie.instance import acquire_single_instance
from vigie.journal import open_journal
from vigie.model import TN, Finding, Severity, T, Text
from vigie.notify import Notification, Notifier
from vigie.platform import PlatformError, get_platform, platform_name, proc
from vigie.ui.children import ChildWindows, vigie_command
from vigie.ui.icons import draw_icon

log = logging.getLogger(__name__)


def now() -> datetime:
    return datetime.now().astimezone()


def overall_severity(findings: Mapping[str, Finding]) -> Severity:
    """The icon's state: a problem outranks "could not check", which outranks all fine."""
    severities = {f.severity for f in findings.values()}
    for severity in (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN):
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
    return T("Vigie: all is well") if findings else T("Vigie: checking…")


class Agent:
    def __init__(self, loaded: LoadedConfig, language: str) -> None:
        from vigie.ui.tray import Tray  # imports pystray: only here, never for `vigie check`

        self.loaded = loaded
        self.language = language
        self.tr = translator(language)
        self.platform = get_platform()
        self.journal, _ = open_journal()
        self.windows = ChildWindows()
        self.tray = Tray(self.tr, on_command=self._on_command, on_quit=self._quit_asked)
        config = loaded.config
        self.engine = Engine(
            [c for c in ALL_CHECKS if getattr(config, c.id).enabled],
            CheckContext(self.platform, config, self.journal, clock=now),
            notify=self._notify,
            withdraw=lambda tag: self.notifier.withdraw(tag),
            policy=AlertPolicy(config.notifications, clock=now),
            tr=self.tr,
            on_status=self._on_status,
            on_show_status=lambda: self.windows.open("status", "--lang", language),
            locker_command=shlex.split(config.lock.locker_command),
            on_incident=self._open_incident,
            incident_summary=lambda: self._incident_summary(),
        )
        self.notifier = Notifier.default(self._notification_icons(), self._on_notification_action,
                                         self._server_probe())
        from vigie.scheduler import Scheduler

        self.scheduler = Scheduler(self.engine.submit, {c: getattr(config, c).interval_minutes
                                                        for c in self.engine.checks})
        self._engine_thread = threading.Thread(target=self.engine.run, name="vigie-engine", daemon=True)
        from vigie.features.idle_lock.watch import IdleWatcher

        self.idle = IdleWatcher(self.platform, config.idle_lock, self.engine.submit)
        self.platform.on_unlock(self._unlocked)
        from vigie.features.usb.guard import UsbGuard
        from vigie.volume_watch import VolumeWatcher

        if config.usb_storage.enabled:
            self.engine.usb = UsbGuard(self.platform, self.journal, self.windows, self._notify, self.engine.submit,
                                       self.tr, language, now, config.usb_storage.scan_timeout_minutes * 60,
                                       [(f.id, f.relative) for f in config.backup_age.destinations])
        from vigie.features.backup.runner import DrillRunner

        self.engine.drills = DrillRunner(self.platform, config, self.engine.submit)
        self.card_watch = self._card_watch(config)
        self.volumes = VolumeWatcher(self.platform, self.engine.submit)
        # A daemon: it may sleep in the kernel until the next mount change, even at exit.
        self._volume_thread = threading.Thread(target=self.volumes.run, name="vigie-volumes", daemon=True)
        self._idle_thread = threading.Thread(target=self.idle.run, name="vigie-idle", daemon=True)

    def _card_watch(self, config: Config):
        """The CPS card watch, when enabled and pyscard is there (no reader yet is fine: it waits)."""
        if not config.cps_card.enabled:
            return None
        from vigie.features.cps_card.check import card_match
        from vigie.features.cps_card.guard import CpsGuard
        from vigie.features.cps_card.watch import CardWatcher

        self.engine.cps = CpsGuard(config.cps_card, self.engine.lock_now, self._notify, self.engine.submit, self.tr,
                                   screen_locked=self.platform.screen_locked)
        return CardWatcher(self.engine.submit, card_match(config.cps_card))

    def run(self) -> None:
        self._engine_thread.start()
        if self.card_watch is not None:
            threading.Thread(target=self.card_watch.run, name="vigie-cps", daemon=True).start()
        if self.loaded.config.idle_lock.enabled:
            self._idle_thread.start()
        config = self.loaded.config
        if config.usb_storage.enabled or (config.backup_drive.enabled and config.backup_age.destinations):
            self._volume_thread.start()  # USB pop-ups, and the backup drive plugged in or out
        self.scheduler.start()
        self.engine.submit(Tick())  # a first full check at start
        self.engine.submit(IncidentChanged())  # an incident may still be open from before
        try:
            self.tray.run(on_visible=lambda backend: log.info("tray visible backend=%s", backend))
        finally:
            self.shutdown()

    def stop(self) -> None:
        self.tray.stop()

    def _quit_asked(self) -> None:
        """« Quitter »: at once, unless the IT provider protects it with a code (checked in a window)."""
        if not self.loaded.quit_code:
            self.stop()
            return
        self.windows.open("quit-code", "--lang", self.language,
                          on_message=lambda message: self.stop() if message == "choice quit" else None)

    def shutdown(self) -> None:
        log.info("stopping")
        self.scheduler.stop()
        self.idle.stop()
        self.volumes.stop()
        if self.card_watch is not None:
            self.card_watch.stop()
        self.engine.submit(Stopped())
        self._engine_thread.join(10)
        self.notifier.stop()
        self.windows.close_all()
        self.journal.close()

    def _open_incident(self) -> None:
        """« Je pense être attaqué »: the detection time is recorded first, then the guide opens."""
        from vigie.features.incident import start_incident
        from vigie.features.incident.contacts import configured_contacts

        try:
            start_incident(now(), configured_contacts(self.loaded.config))
        except Exception:  # the guide records it too; the window must open whatever happens here
            log.exception("incident: could not record the detection time")
        self.windows.open("incident", "--lang", self.language,
                          on_message=lambda message: self.engine.submit(IncidentChanged())
                          if message == "closed" else None)

    @staticmethod
    def _incident_summary() -> Text | None:
        from vigie.features.incident import open_incident_summary

        try:
            return open_incident_summary(now())
        except Exception:  # a damaged incident file must not take the tooltip down
            log.exception("incident: summary unavailable")
            return None

    def _unlocked(self) -> None:
        """Vigie's own locker exited (Linux): the idle watch and the card policy both need to know."""
        self.idle.wake()
        self.engine.submit(SessionUnlocked())

    def _on_command(self, kind: CommandKind) -> None:
        self.engine.submit(Command(kind))

    def _on_notification_action(self, action: str) -> None:
        if action == SHOW_STATUS_ACTION:
            self.engine.submit(Command(CommandKind.SHOW_STATUS))
        elif action == PRESENT_ACTION:
            self.idle.present()
        elif action == EJECT_BACKUP_ACTION:
            self.engine.submit(Command(CommandKind.EJECT_BACKUP_DRIVE))

    def _notify(self, notification: Notification) -> None:
        self.notifier.send(notification)

    def _on_status(self, findings: Mapping[str, Finding]) -> None:
        self.tray.show(overall_severity(findings), render(tooltip(findings, self.engine.notes), self.tr))
        card = findings.get("cps_card")
        self.tray.show_card_state(render(card.title, self.tr) if card and card.facts.get("available") else "")
        checks = [self.engine.checks[i] for i in findings]
        document = report.to_json(checks, list(findings.values()), self.loaded, self.platform.name,
                                  self.language, self.tr, now())
        try:
            paths.replace_private_file(paths.status_snapshot(), document)
        except OSError as exc:
            log.error("cannot write the status snapshot: %s", exc)

    @staticmethod
    def _notification_icons() -> dict[Severity, Path]:
        """Notification daemons want icon files: one per state, drawn at start."""
        icons = {}
        for severity in Severity:
            path = paths.runtime_dir() / f"vigie-{severity.name.lower()}.png"
            try:
                paths.private_dir(path.parent)
                draw_icon(128, severity).save(path)
                icons[severity] = path
            except OSError as exc:
                log.warning("cannot write the notification icon: %s", exc)
        return icons

    @staticmethod
    def _server_probe() -> Callable[[], bool] | None:
        if platform_name() != "linux":
            return None
        from vigie.platform.linux import notification_server_present

        return notification_server_present


def load_config_in_child(timeout: float = 30.0) -> LoadedConfig:
    """Read the configuration through `vigie config export` in a short-lived process: the always-on
    agent then never loads the keyring stack (Secret Service, D-Bus crypto: about 11 MB)."""
    try:
        result = proc.run(vigie_command("config", "export"), timeout)
        return LoadedConfig.from_json(result.stdout)
    except (PlatformError, ValueError, KeyError, msgspec.ValidationError) as exc:
        log.error("configuration unavailable: %s", exc)
        problem = Problem("keyring_error", KEYRING_PROBLEMS["keyring_error"])
        # The IT provider's policy needs no keyring: its locked values and quit code still hold.
        found = policy.read_policy(policy.policy_path())
        config, locked, _refused = policy.apply(Config(), found)
        return LoadedConfig(config, read_only=True, problems=[problem], locked=locked, quit_code=found.quit_code)


def run_agent(explicit_language: str | None) -> int:
    lock = acquire_single_instance()
    loaded = load_config_in_child()
    language = resolve_language(explicit_language, loaded.config.general.language)
    tr = translator(language)
    if lock is None:
        print(render(T("Vigie is already running: its icon is next to the clock."), tr))
        return 0
    from vigie.platform import windows_mutex  # no-ops elsewhere; on Windows before the tray exists

    windows_mutex.set_app_user_model_id()  # toasts and the tray balloon say "Vigie"
    windows_mutex.hold_app_mutexes()  # the installer's AppMutex: an upgrade waits for Vigie to quit
    try:
        agent = Agent(loaded, language)
        log.info("agent started (tray backend %s)", agent.tray.backend)
        agent.run()
    except Exception as exc:
        from vigie.ui.tray import TrayUnavailable

        if not isinstance(exc, TrayUnavailable):
            raise
        log.error("tray unavailable: %s", exc.detail)
        print(render(T("Vigie cannot show its icon: {reason}", reason=exc.reason), tr), file=sys.stderr)
        print(render(T("The security report still works: vigie check"), tr), file=sys.stderr)
        return 1
    finally:
        lock.release()
    return 0
