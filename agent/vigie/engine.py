"""The engine thread: consumes events, runs checks, keeps the status table, dispatches.

Threading rules: `submit()` may be called from any thread; everything else runs on the engine
thread. Callbacks (`on_status`, `on_show_status`) are called on the engine thread and must not
block for long (the tray marshals its own updates to the UI thread).
"""

from __future__ import annotations

import gettext
import logging
import queue
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from vigie.alerts import AlertPolicy
from vigie.checks.base import Check, CheckContext
from vigie.events import (
    Command,
    CommandKind,
    Event,
    IdleEnded,
    IdleLockDue,
    IdleLockPostponed,
    IdleReminderDue,
    Stopped,
    Tick,
    UserReturned,
    VolumeAdded,
    VolumeChoice,
    VolumeRemoved,
    VolumeScanned,
)
from vigie.i18n import render
from vigie.model import Finding, Severity, T, Text
from vigie.notify import Button, Notification
from vigie.platform.base import PlatformError
from vigie.runner import run_check

log = logging.getLogger(__name__)
HELD_RECHECK_SECONDS = 30.0  # only while notifications wait for the screen to be unlocked
SHOW_STATUS_ACTION = "show_status"
PRESENT_ACTION = "present"
IDLE_TAG = "idle"
LOCK_FAILED = T("Vigie could not lock the screen")
LOCK_KEYS = {"windows": T("Windows + L"), "macos": T("Ctrl + Cmd + Q"), "linux": T("Super + L (or Ctrl + Alt + L)")}
IDLE_PAUSED = T("automatic lock paused: a camera or microphone is in use")
TIP_DAY_KEY = "idle_lock.tip_day"


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
        self.findings: dict[str, Finding] = {}
        self.notes: dict[str, Text] = {}  # short states shown in the tooltip (e.g. lock paused)
        self.usb = None  # a vigie.usb.UsbGuard when the USB watch runs
        self._events: queue.Queue[Event] = queue.Queue()

    def submit(self, event: Event) -> None:
        self._events.put(event)

    def run(self) -> None:
        while True:
            try:
                # Block until something happens; wake periodically only while notifications are held.
                event = self._events.get(timeout=HELD_RECHECK_SECONDS if self.policy.holding else None)
            except queue.Empty:
                self._release_held()
                continue
            if isinstance(event, Stopped):
                return
            try:
                self._handle(event)
            except Exception:  # the engine must outlive any single event
                log.exception("event %r failed", event)

    def _handle(self, event: Event) -> None:
        if isinstance(event, Tick):
            self._run_checks([event.check_id] if event.check_id else list(self.checks))
        elif isinstance(event, Command):
            self._command(event.kind)
        elif isinstance(event, IdleReminderDue):
            self.notify(self._idle_reminder(event.seconds_left))
        elif isinstance(event, IdleEnded):
            self.withdraw(IDLE_TAG)
            self._set_note("idle", None)
        elif isinstance(event, IdleLockDue):
            self.withdraw(IDLE_TAG)
            self.lock_now()
        elif isinstance(event, IdleLockPostponed):
            self._set_note("idle", IDLE_PAUSED)
        elif isinstance(event, UserReturned):
            self._lock_tip()
        elif isinstance(event, (VolumeAdded, VolumeRemoved, VolumeChoice, VolumeScanned)) and self.usb is not None:
            self._volume_event(event)

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

    def _run_checks(self, check_ids: Sequence[str]) -> None:
        for check_id in check_ids:
            check = self.checks.get(check_id)
            if check is None:
                continue
            finding = run_check(check, Tick(check_id), self.ctx)
            previous = self.findings.get(check_id)
            self.findings[check_id] = finding
            self.on_status(MappingProxyType(dict(self.findings)))
            locked = bool(self.ctx.platform.screen_locked())
            for shown in self.policy.consider(finding, previous, locked):
                self.notify(self._notification(shown))

    def _release_held(self) -> None:
        if not self.ctx.platform.screen_locked():
            for finding in self.policy.release():
                self.notify(self._notification(finding))

    def lock_now(self) -> None:
        try:
            how = self.ctx.platform.lock_screen(self.locker_command)
            log.info("screen locked via %s", how)
        except PlatformError as exc:
            log.error("lock failed: %s", exc)
            keys = LOCK_KEYS.get(self.ctx.platform.name, LOCK_KEYS["linux"])
            advice = T("Lock it yourself before you leave: {keys}.", keys=keys)
            body = f"{render(exc.reason, self.tr)} {render(advice, self.tr)}"
            self.notify(Notification(render(LOCK_FAILED, self.tr), body, Severity.CRITICAL))

    def _notification(self, finding: Finding) -> Notification:
        body = " ".join(render(t, self.tr) for t in (finding.detail, finding.fix) if t)
        return Notification(
            title=render(finding.title, self.tr),
            body=body,
            severity=finding.severity,
            buttons=(Button(render(T("See the status"), self.tr), SHOW_STATUS_ACTION),),
        )
