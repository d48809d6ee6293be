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
from vigie.events import Command, CommandKind, Event, Stopped, Tick
from vigie.i18n import render
from vigie.model import Finding, Severity, T
from vigie.notify import Button, Notification
from vigie.platform.base import PlatformError
from vigie.runner import run_check

log = logging.getLogger(__name__)
HELD_RECHECK_SECONDS = 30.0  # only while notifications wait for the screen to be unlocked
SHOW_STATUS_ACTION = "show_status"
LOCK_FAILED = T("Vigie could not lock the screen")
LOCK_KEYS = {"windows": T("Windows + L"), "macos": T("Ctrl + Cmd + Q")}


class Engine:
    def __init__(
        self,
        checks: Sequence[Check],
        ctx: CheckContext,
        *,
        notify: Callable[[Notification], None],
        policy: AlertPolicy,
        tr: gettext.NullTranslations,
        on_status: Callable[[Mapping[str, Finding]], None],
        on_show_status: Callable[[], None],
        locker_command: Sequence[str] = (),
    ) -> None:
        self.checks = {c.id: c for c in checks}
        self.ctx = ctx
        self.notify = notify
        self.policy = policy
        self.tr = tr
        self.on_status = on_status
        self.on_show_status = on_show_status
        self.locker_command = tuple(locker_command)
        self.findings: dict[str, Finding] = {}
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
            keys = LOCK_KEYS.get(self.ctx.platform.name, T("the “Lock” item of your session menu"))
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
