"""The engine thread: consumes events, keeps the status table, dispatches; checks run beside it.

Threading rules: `submit()` may be called from any thread; everything else runs on the engine
thread, except the checks' evaluation: that runs on one "checks" thread (a check may wait minutes
for Windows Update, restic over the network…) and comes back as a CheckEvaluated event, so a lock
(idle, CPS card) is never queued behind a slow check. Callbacks (`on_status`, `on_show_status`) are
called on the engine thread and must not block for long (the tray marshals its own updates).

The engine knows no feature: it hands each event to the features that declared its type (in the
order of ALL_FEATURES), runs the checks that it triggers, and routes "feature:action" commands.
"""

from __future__ import annotations

import gettext
import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from vigie.alerts import AlertPolicy
from vigie.check import Check, CheckContext, run_check
from vigie.events import (
    CHECK_NOW,
    LOCK_NOW,
    SHOW_STATUS,
    CheckEvaluated,
    Command,
    Event,
    LockFailed,
    SessionLocked,
    SessionUnlocked,
    SettingsChanged,
    Stopped,
    Tick,
)
from vigie.features.base import Feature, Services
from vigie.i18n import render
from vigie.model import TN, Finding, Severity, T, Text
from vigie.notify import Button, Notification
from vigie.platform.base import LockProof, PlatformError, Volume
from vigie.snooze import MAX_SNOOZES, SNOOZE_ACTION
from vigie.ui.children import ChildWindows

log = logging.getLogger(__name__)
HELD_RECHECK_SECONDS = 30.0  # only while notifications wait for the screen to be unlocked
LOCK_FAILED = T("Vigie could not lock the screen")
LATER = T("Later")  # on a warning's notification, MAX_SNOOZES times per problem
PUT_OFF_ENOUGH = TN("Put off {n} time already: please see to it now.", "Put off {n} times already: please see to "
                    "it now.", MAX_SNOOZES)


@dataclass(frozen=True)
class LockDone(Event):
    """The lock thread's outcome: the proof that the session is locked, or why it is not."""

    proof: LockProof | None = None
    error: PlatformError | None = None


CORE_EVENTS = (Tick, Command, CheckEvaluated, LockDone)  # the engine's own: never "triggered" checks


@dataclass(frozen=True)
class Status:
    """What the tray and the status window show, after every change."""

    findings: Mapping[str, Finding]
    notes: Mapping[str, Text]  # short states for the tooltip (lock paused, an incident's countdown)
    menu_line: Text | None  # an inactive first line in the tray menu (the CPS card)


class Engine:
    def __init__(
        self,
        features: Sequence[type[Feature]],
        ctx: CheckContext,
        *,
        notify: Callable[[Notification], None],
        withdraw: Callable[[str], None],
        policy: AlertPolicy,
        tr: gettext.NullTranslations,
        language: str,
        windows: ChildWindows,
        on_status: Callable[[Status], None],
        on_show_status: Callable[[], None],
        locker_command: Sequence[str] = (),
    ) -> None:
        self.ctx = ctx
        self.notify = notify
        self.policy = policy
        self.tr = tr
        self.on_status = on_status
        self.on_show_status = on_show_status
        self.locker_command = tuple(locker_command)
        self.findings: dict[str, Finding] = {}
        self.notes: dict[str, Text] = {}
        self._timers: dict[str, threading.Timer] = {}  # one pending timer per key (Services.plan)
        self._events: queue.Queue[Event] = queue.Queue()
        self._work: queue.Queue[tuple[str, Event] | None] = queue.Queue()
        self._queued_ticks: set[str] = set()  # periodic runs not started yet: no need to queue twice
        self._queued_lock = threading.Lock()
        self._locking = False  # a lock is being made and proven on the lock thread (engine thread only)
        self.services = Services(
            submit=self.submit, notify=notify, withdraw=withdraw, lock_now=self.lock_now, set_note=self._set_note,
            run_checks=self._run_checks, plan=self._plan_event, findings=self._findings_view,
            volume_claimed=self._volume_claimed, windows=windows,
            journal=ctx.journal, platform=ctx.platform, config=ctx.config, clock=ctx.clock, tr=tr, language=language,
        )
        self.features = {make.id: make(self.services) for make in features}
        self.checks: dict[str, Check] = {c.id: c for f in self.features.values() for c in f.checks
                                         if getattr(ctx.config, c.id).enabled}
        self._handlers: dict[type[Event], list[Feature]] = {}
        for feature in self.features.values():
            for kind in feature.handles:
                self._handlers.setdefault(kind, []).append(feature)

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
                return
            try:
                self._handle(event)
            except Exception:  # the engine must outlive any single event
                # The type only: an event's fields may hold file or volume names (personal data).
                log.exception("event %s failed", type(event).__name__)

    def _handle(self, event: Event) -> None:
        if isinstance(event, CheckEvaluated):
            self._apply(event.check_id, event.finding)
        elif isinstance(event, Tick):
            self._run_checks([event.check_id] if event.check_id else list(self.checks))
        elif isinstance(event, Command):
            self._command(event.action)
        elif isinstance(event, LockDone):
            self._lock_done(event)
        elif isinstance(event, SessionUnlocked):
            self._release_held()  # the user is back: what was held for them now, not at the next recheck
        elif isinstance(event, SettingsChanged):
            self._take_settings(event)
        self.dispatch(event)
        if not isinstance(event, CORE_EVENTS):
            # Checks that follow this kind of event (a drive plugged in, a card pulled out) run now.
            self._run_checks([c.id for c in self.checks.values() if type(event) in c.triggers], event)

    def dispatch(self, event: Event) -> None:
        """Hand the event to every feature that declared its type (engine thread)."""
        for feature in self._handlers.get(type(event), ()):
            try:
                feature.handle(event)
            except Exception:  # one feature's bug must not keep the event from the others
                log.exception("feature %s failed on %s", feature.id, type(event).__name__)

    def _command(self, action: str) -> None:
        if action == CHECK_NOW:
            self._run_checks(list(self.checks))
        elif action == LOCK_NOW:
            self.lock_now()
        elif action == SHOW_STATUS:
            self.on_show_status()
        elif action.startswith(SNOOZE_ACTION):
            if self.policy.snoozes is not None:
                self.policy.snoozes.snooze(action.removeprefix(SNOOZE_ACTION))
        else:
            feature_id, _, name = action.partition(":")
            feature = self.features.get(feature_id)
            if feature is None or not name:
                log.warning("unknown command %r", action)
                return
            feature.act(name)

    def _take_settings(self, event: SettingsChanged) -> None:
        """New settings while running: the checks, the notifications, the language and the locker use them from
        now on; the features that declared SettingsChanged get the event next (dispatch). Which checks run, and
        how often, stays as at start."""
        self.ctx = replace(self.ctx, config=event.config)  # the checks thread reads self.ctx at each run
        self.policy.settings = event.config.notifications
        self.tr = event.tr
        self.locker_command = tuple(event.locker_command)
        self.services.config, self.services.tr, self.services.language = event.config, event.tr, event.language
        log.info("settings applied (language=%s)", event.language)
        self._publish()  # the tray's texts again, in the language now chosen

    def _volume_claimed(self, volume: Volume) -> bool:
        return any(feature.claims_volume(volume) for feature in self.features.values())

    def _findings_view(self) -> Mapping[str, Finding]:
        return MappingProxyType(dict(self.findings))

    def _set_note(self, key: str, note: Text | None) -> None:
        if note is None:
            if self.notes.pop(key, None) is None:
                return
        else:
            self.notes[key] = note
        self._publish()

    def _publish(self) -> None:
        findings = self._findings_view()
        line = None
        for feature in self.features.values():
            line = line or feature.menu_line(findings)
        self.on_status(Status(findings, MappingProxyType(dict(self.notes)), line))

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
        self._publish()
        self._plan_event(check_id, finding.recheck_seconds, Tick(check_id))
        locked = bool(self.ctx.platform.screen_locked())
        for shown in self.policy.consider(finding, previous, locked):
            self.notify(self._notification(shown))

    def _plan_event(self, key: str, seconds: float | None, event: Event) -> None:
        """One pending timer per key; it only puts the event on the queue. A check that knows when
        its verdict may change (a drive left plugged in) is run again then, under its own id."""
        previous = self._timers.pop(key, None)
        if previous is not None:
            previous.cancel()
        if seconds is not None:
            timer = threading.Timer(seconds, self.submit, args=(event,))
            timer.daemon = True
            timer.start()
            self._timers[key] = timer

    def _release_held(self) -> None:
        if not self.ctx.platform.screen_locked():
            for finding in self.policy.release():
                self.notify(self._notification(finding))

    def lock_now(self) -> None:
        """Lock on a thread of its own: the platform starts the lock, then waits (a few seconds at
        most) to see the session locked. The outcome comes back as a LockDone event."""
        if self._locking:
            log.info("lock already under way")  # a card pulled out twice, the menu clicked twice
            return
        self._locking = True
        threading.Thread(target=self._lock, name="vigie-lock", daemon=True).start()

    def _lock(self) -> None:
        """The lock thread: whatever happens, LockDone goes back to the engine (or no lock would start again)."""
        try:
            done = LockDone(proof=self.ctx.platform.lock_screen(self.locker_command))
        except PlatformError as exc:
            done = LockDone(error=exc)
        except Exception as exc:  # a bug in a platform must still end in a loud failure
            log.exception("lock: unexpected error")
            done = LockDone(error=PlatformError(T("An internal error stopped the lock; details are in Vigie's log."),
                                                type(exc).__name__))
        self.submit(done)

    def _lock_done(self, done: LockDone) -> None:
        self._locking = False
        if done.proof is not None:
            log.info("screen locked via %s (seen locked: %s)", done.proof.how, done.proof.proof)
            self.dispatch(SessionLocked())  # a card pulled out next finds the session locked
            return
        exc = done.error or PlatformError(LOCK_FAILED)
        log.error("lock failed: %s", exc)
        advice = T("Lock it yourself before you leave: {keys}.", keys=self.ctx.platform.lock_shortcut)
        body = f"{render(exc.reason, self.tr)} {render(advice, self.tr)}"
        self.notify(Notification(render(LOCK_FAILED, self.tr), body, Severity.CRITICAL))
        self.dispatch(LockFailed(exc.reason))  # nobody may believe the session locked

    def _notification(self, finding: Finding) -> Notification:
        detail = finding.notification_detail or finding.detail
        body = " ".join(render(t, self.tr) for t in (detail, finding.fix) if t)
        buttons = [Button(render(T("See the status"), self.tr), SHOW_STATUS)]
        if finding.action is not None:
            buttons.insert(0, Button(render(finding.action.label, self.tr), finding.action.command))
        snoozes = self.policy.snoozes
        insist = False
        if finding.severity == Severity.WARNING and snoozes is not None:
            if snoozes.left(finding.check_id):
                buttons.append(Button(render(LATER, self.tr), SNOOZE_ACTION + finding.check_id))
            else:  # put off as often as allowed: it now stays on screen, and says why
                insist = True
                body = f"{render(PUT_OFF_ENOUGH, self.tr)} {body}"
        return Notification(
            title=render(finding.title, self.tr),
            body=body,
            severity=finding.severity,
            buttons=tuple(buttons),
            insist=insist,
        )
