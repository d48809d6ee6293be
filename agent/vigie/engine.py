"""The engine thread: consumes events, keeps the status table, dispatches; checks run beside it.

Threading rules: `submit()` may be called from any thread; everything else runs on the engine
thread, except the checks' evaluation: that runs on one "checks" thread (a check may wait minutes
for Windows Update, restic over the network…) and comes back as a CheckEvaluated event, so a lock
(idle, CPS card) is never queued behind a slow check. Callbacks (`on_status`, `on_show_status`) are
called on the engine thread and must not block for long (the tray marshals its own updates).
"""

from __future__ import annotations

import gettext
import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from vigie.alerts import AlertPolicy
from vigie.check import Check, CheckContext
from vigie.events import (
    CardInserted,
    CardPolicyDue,
    CardReaders,
    CardRemoved,
    CardWatchLost,
    CardWatchRestored,
    CheckEvaluated,
    Command,
    CommandKind,
    DrillFinished,
    Event,
    IdleEnded,
    IdleLockDue,
    IdleLockPostponed,
    IdleReminderDue,
    IncidentChanged,
    SessionUnlocked,
    Stopped,
    Tick,
    UserReturned,
    VolumeAdded,
    VolumeChoice,
    VolumeRemoved,
    VolumeScanned,
)
from vigie.i18n import render
from vigie.model import TN, ActionKind, Finding, Severity, T, Text
from vigie.notify import Button, Notification
from vigie.platform.base import PlatformError
from vigie.runner import run_check

log = logging.getLogger(__name__)
HELD_RECHECK_SECONDS = 30.0  # only while notifications wait for the screen to be unlocked
SHOW_STATUS_ACTION = "show_status"
PRESENT_ACTION = "present"
EJECT_BACKUP_ACTION = "eject_backup_drive"
DRILL_CHECK = "restore_drill"
INCIDENT_REFRESH_SECONDS = 60.0
IDLE_TAG = "idle"
LOCK_FAILED = T("Vigie could not lock the screen")
LOCK_KEYS = {"windows": T("Windows + L"), "macos": T("Ctrl + Cmd + Q"), "linux": T("Super + L (or Ctrl + Alt + L)")}
IDLE_PAUSED = T("automatic lock paused: a camera or microphone is in use")
TIP_DAY_KEY = "idle_lock.tip_day"
CARD_EVENTS = (CardInserted, CardRemoved, CardReaders, CardWatchLost, CardWatchRestored, CardPolicyDue)


class Engine:
    def __init__(
        self,
        checks: Sequence[Check],
        ctx: CheckContext,
        *,
        notify: Callable[[Notification], None],
        withdraw: Callable[[str], None],
        policy: AlertPolicy,
        tr: gettext.NullTranslations,
        on_status: Callable[[Mapping[str, Finding]], None],
        on_show_status: Callable[[], None],
        locker_command: Sequence[str] = (),
        on_incident: Callable[[], None] = lambda: None,
        incident_summary: Callable[[], Text | None] = lambda: None,
    ) -> None:
        self.checks = {c.id: c for c in checks}
        self.ctx = ctx
        self.notify = notify
        self.withdraw = withdraw
        self.policy = policy
        self.tr = tr
        self.on_status = on_status
        self.on_show_status = on_show_status
        self.locker_command = tuple(locker_command)
        self.on_incident = on_incident
        self.incident_summary = incident_summary
        self.findings: dict[str, Finding] = {}
        self.notes: dict[str, Text] = {}  # short states shown in the tooltip (e.g. lock paused)
        self.usb = None  # a vigie.features.usb.guard.UsbGuard when the USB watch runs
        self.drills = None  # a vigie.features.backup.runner.DrillRunner in the agent
        self._drill_asked = False  # the user asked while a scheduled drill ran: show its result
        self.cps = None  # a vigie.features.cps_card.guard.CpsGuard while a card reader is watched
        self._timers: dict[str, threading.Timer] = {}  # rechecks and the incident countdown, one per key
        self._events: queue.Queue[Event] = queue.Queue()
        self._work: queue.Queue[tuple[str, Event] | None] = queue.Queue()
        self._queued_ticks: set[str] = set()  # periodic runs not started yet: no need to queue twice
        self._queued_lock = threading.Lock()

    def submit(self, event: Event) -> None:
        self._events.put(event)

    def run(self) -> None:
        threading.Thread(target=self._evaluate_checks, name="vigie-checks", daemon=True).start()
        while True:
            try:
                # Block until something happens; wake periodically only while notifications are held.
                event = self._events.get(timeout=HELD_RECHECK_SECONDS if self.policy.holding else None)
            except queue.Empty:
                self._release_held()
                continue
            if isinstance(event, Stopped):
                self._work.put(None)
                for timer in self._timers.values():
                    timer.cancel()
                if self.cps is not None:
                    self.cps.stop()
                return
            try:
                self._handle(event)
            except Exception:  # the engine must outlive any single event
                log.exception("event %r failed", event)

    def _handle(self, event: Event) -> None:
        if isinstance(event, CheckEvaluated):
            self._apply(event.check_id, event.finding)
        elif isinstance(event, Tick):
            self._run_checks([event.check_id] if event.check_id else list(self.checks))
        elif isinstance(event, Command):
            self._command(event.kind)
        elif isinstance(event, IdleReminderDue):
            self.notify(self._idle_reminder(event.seconds_left))
            self._tell_cps("user_idle")
        elif isinstance(event, IdleEnded):
            self.withdraw(IDLE_TAG)
            self._set_note("idle", None)
            self._tell_cps("user_active")
        elif isinstance(event, IdleLockDue):
            self.withdraw(IDLE_TAG)
            self.lock_now()
        elif isinstance(event, IdleLockPostponed):
            self._set_note("idle", IDLE_PAUSED)
        elif isinstance(event, UserReturned):
            self._lock_tip()
            self._tell_cps("session_unlocked")
        elif isinstance(event, IncidentChanged):
            self._incident_note()
        elif isinstance(event, SessionUnlocked):
            self._tell_cps("session_unlocked")
        elif isinstance(event, CARD_EVENTS):
            if self.cps is not None:
                self.cps.handle(event)
            self._run_triggered(event)
        elif isinstance(event, DrillFinished):
            self._drill_finished(event)
        elif isinstance(event, (VolumeAdded, VolumeRemoved, VolumeChoice, VolumeScanned)):
            if self.usb is not None:
                self._volume_event(event)
            self._run_triggered(event)

    def _run_triggered(self, event: Event) -> None:
        """Checks that follow this kind of event (a drive plugged in, a card pulled out) run now."""
        self._run_checks([c.id for c in self.checks.values() if type(event) in c.triggers], event)

    def _tell_cps(self, what: str) -> None:
        if self.cps is not None:
            getattr(self.cps, what)()

    def _volume_event(self, event: VolumeAdded | VolumeRemoved | VolumeChoice | VolumeScanned) -> None:
        if isinstance(event, VolumeAdded):
            self.usb.added(event.volume)
        elif isinstance(event, VolumeRemoved):
            self.usb.removed(event.volume)
        elif isinstance(event, VolumeChoice):
            self.usb.chose(event.volume, event.choice)
        else:
            self.usb.scanned(event.volume, event.result, event.error)

    def _set_note(self, key: str, note: Text | None) -> None:
        if note is None:
            if self.notes.pop(key, None) is None:
                return
        else:
            self.notes[key] = note
        self.on_status(MappingProxyType(dict(self.findings)))

    def _idle_reminder(self, seconds_left: int) -> Notification:
        return Notification(
            title=render(T("Idle computer: locking in {seconds} s", seconds=seconds_left), self.tr),
            body=render(T("Move the mouse or click “I’m here” to stay signed in."), self.tr),
            buttons=(Button(render(T("I’m here"), self.tr), PRESENT_ACTION),),
            tag=IDLE_TAG,
        )

    def _lock_tip(self) -> None:
        """After an automatic lock, when the user is back: a friendly tip, once a day at most."""
        today = self.ctx.clock().date().isoformat()
        if self.ctx.journal.get_state(TIP_DAY_KEY) == today:
            return
        self.ctx.journal.set_state(TIP_DAY_KEY, today)
        keys = LOCK_KEYS.get(self.ctx.platform.name, LOCK_KEYS["linux"])
        self.notify(Notification(
            title=render(T("Vigie locked this computer while you were away"), self.tr),
            body=render(T("Next time, {keys} locks it in a second.", keys=keys), self.tr),
            severity=Severity.INFO,
        ))

    def _command(self, kind: CommandKind) -> None:
        if kind == CommandKind.CHECK_NOW:
            self._run_checks(list(self.checks))
        elif kind == CommandKind.LOCK_NOW:
            self.lock_now()
        elif kind == CommandKind.SHOW_STATUS:
            self.on_show_status()
        elif kind == CommandKind.RUN_DRILL:
            self._start_drill(manual=True)
        elif kind == CommandKind.EJECT_BACKUP_DRIVE:
            self._eject_backup_drive()
        elif kind == CommandKind.INCIDENT:
            self.on_incident()
            self._incident_note()

    def _incident_note(self) -> None:
        """While an incident is open the tooltip counts down its two 72-hour deadlines, every minute."""
        summary = self.incident_summary()
        self._set_note("incident", summary)
        self._plan_event("incident", INCIDENT_REFRESH_SECONDS if summary else None, IncidentChanged())

    def _run_checks(self, check_ids: Sequence[str], event: Event | None = None) -> None:
        """Hand the checks to the checks thread. A periodic run already waiting there (not started)
        is not queued twice; an event (a card pulled out, a drive plugged in) always is."""
        for check_id in check_ids:
            if check_id not in self.checks:
                continue
            if event is None or isinstance(event, Tick):
                with self._queued_lock:
                    if check_id in self._queued_ticks:
                        continue
                    self._queued_ticks.add(check_id)
            self._work.put((check_id, event or Tick(check_id)))

    def _evaluate_checks(self) -> None:
        """The checks thread: evaluate, then give the finding back to the engine thread."""
        while (item := self._work.get()) is not None:
            check_id, event = item
            if isinstance(event, Tick):
                with self._queued_lock:
                    self._queued_ticks.discard(check_id)
            self.submit(CheckEvaluated(check_id, run_check(self.checks[check_id], event, self.ctx)))

    def _apply(self, check_id: str, finding: Finding) -> None:
        previous = self.findings.get(check_id)
        self.findings[check_id] = finding
        self.on_status(MappingProxyType(dict(self.findings)))
        self._plan_recheck(check_id, finding.recheck_seconds)
        locked = bool(self.ctx.platform.screen_locked())
        for shown in self.policy.consider(finding, previous, locked):
            self.notify(self._notification(shown))
        if check_id == DRILL_CHECK and finding.facts.get("due"):
            self._start_drill(manual=False)

    def _plan_recheck(self, check_id: str, seconds: float | None) -> None:
        """A check that knows when its verdict may change (a drive left plugged in) is run again then."""
        self._plan_event(check_id, seconds, Tick(check_id))

    def _plan_event(self, key: str, seconds: float | None, event: Event) -> None:
        """One pending timer per key; it only puts the event on the queue."""
        previous = self._timers.pop(key, None)
        if previous is not None:
            previous.cancel()
        if seconds is not None:
            timer = threading.Timer(seconds, self.submit, args=(event,))
            timer.daemon = True
            timer.start()
            self._timers[key] = timer

    # --- backups ---------------------------------------------------------------------------------
    def _start_drill(self, manual: bool) -> None:
        if self.drills is None:
            return
        if self.drills.start(manual):
            if manual:
                self.notify(Notification(render(T("Testing your backup…"), self.tr),
                                         render(T("Vigie restores a few files and compares them with yours. "
                                                  "You can keep working."), self.tr), Severity.INFO))
        elif manual and self.drills.running:
            self._drill_asked = True
            self.notify(Notification(render(T("Testing your backup…"), self.tr),
                                     render(T("A test is already running: Vigie will tell you the result."), self.tr),
                                     Severity.INFO))
        elif manual:
            self.notify(Notification(render(T("No backup to test right now"), self.tr),
                                     render(T("Plug in the backup drive, then try again."), self.tr),
                                     Severity.INFO))

    def _drill_finished(self, event: DrillFinished) -> None:
        now = self.ctx.clock()
        for result in event.results:
            self.ctx.journal.record(DRILL_CHECK, now, **result.journal_data(),
                                    reason=result.reason.msgid if result.reason else None)
        self._run_checks([DRILL_CHECK])
        if event.manual or self._drill_asked:
            self.notify(self._drill_summary(event.results))
        self._drill_asked = False

    def _drill_summary(self, results: Sequence) -> Notification:
        failed = [r for r in results if r.outcome.value == "failed"]
        passed = [r for r in results if r.outcome.value == "passed"]
        if failed:
            return Notification(render(T("Your backup does not restore correctly"), self.tr),
                                render(T("Call your IT provider today. Details are in the status window."), self.tr),
                                Severity.CRITICAL,
                                buttons=(Button(render(T("See the status"), self.tr), SHOW_STATUS_ACTION),))
        if passed:
            files = sum(len(r.checked) for r in passed)
            return Notification(render(T("Backup test passed"), self.tr),
                                render(TN("{n} file restored and identical to the original.",
                                          "{n} files restored and identical to the originals.", files), self.tr),
                                Severity.OK)
        reasons = "; ".join(render(r.reason, self.tr) for r in results if r.reason)
        return Notification(render(T("The backup test could not be completed"), self.tr), reasons, Severity.WARNING)

    def _eject_backup_drive(self) -> None:
        finding = self.findings.get("backup_drive")
        action = finding.action if finding else None
        if action is None or action.kind != ActionKind.EJECT_BACKUP_DRIVE:
            return
        from vigie.features.backup.sources import mounted

        volume = next((v for v in mounted(self.ctx.platform) if v.mount_point == action.target), None)
        if volume is None:  # unplugged meanwhile: nothing to eject, nothing to claim
            self._run_checks(["backup_drive"])
            return
        try:
            self.ctx.platform.eject(volume)
        except PlatformError as exc:
            log.error("backup drive: eject failed: %s", exc)
            self.notify(Notification(render(T("The backup drive could not be ejected"), self.tr),
                                     render(exc.reason, self.tr), Severity.WARNING))
            return
        log.info("backup drive ejected")
        self.notify(Notification(render(T("You can unplug the backup drive"), self.tr),
                                 render(T("It was ejected safely. Keep it away from the computer."), self.tr),
                                 Severity.OK))
        self._run_checks(["backup_drive"])

    def _release_held(self) -> None:
        if not self.ctx.platform.screen_locked():
            for finding in self.policy.release():
                self.notify(self._notification(finding))

    def lock_now(self) -> None:
        try:
            how = self.ctx.platform.lock_screen(self.locker_command)
            log.info("screen locked via %s", how)
            self._tell_cps("session_locked")
        except PlatformError as exc:
            log.error("lock failed: %s", exc)
            keys = LOCK_KEYS.get(self.ctx.platform.name, LOCK_KEYS["linux"])
            advice = T("Lock it yourself before you leave: {keys}.", keys=keys)
            body = f"{render(exc.reason, self.tr)} {render(advice, self.tr)}"
            self.notify(Notification(render(LOCK_FAILED, self.tr), body, Severity.CRITICAL))

    def _notification(self, finding: Finding) -> Notification:
        body = " ".join(render(t, self.tr) for t in (finding.detail, finding.fix) if t)
        buttons = [Button(render(T("See the status"), self.tr), SHOW_STATUS_ACTION)]
        if finding.action and finding.action.kind == ActionKind.EJECT_BACKUP_DRIVE:
            buttons.insert(0, Button(render(T("Eject"), self.tr), EJECT_BACKUP_ACTION))
        return Notification(
            title=render(finding.title, self.tr),
            body=body,
            severity=finding.severity,
            buttons=tuple(buttons),
        )
