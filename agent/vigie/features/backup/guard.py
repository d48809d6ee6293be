"""Backup guard: restore drills (when due, or asked for from the menu) and the backup drive's eject button.

Threading rules: every method runs on the engine thread. Drills run on their own thread
(features.backup.runner) and come back as one DrillFinished event; the journal is written here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from vigie.events import SHOW_STATUS
from vigie.features.backup import drill
from vigie.features.backup.destination import DestinationError, read_marker
from vigie.features.backup.drill import DrillResult, Outcome
from vigie.features.backup.events import DrillFinished
from vigie.features.backup.restore_drill import JOURNAL_KIND
from vigie.features.backup.runner import DrillRunner
from vigie.features.backup.sources import mounted
from vigie.features.base import Services
from vigie.i18n import render
from vigie.model import TN, Severity, T, Text
from vigie.notify import Button, Notification
from vigie.platform.base import PlatformError, Volume

log = logging.getLogger(__name__)
DRILL_CHECK = "restore_drill"
DRIVE_CHECK = "backup_drive"
TESTING = T("Testing your backup…")


class BackupGuard:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.drills = DrillRunner(services.platform, services.config, services.submit)
        self._drill_asked = False  # the user asked while a scheduled drill ran: show its result

    def start_drill(self, manual: bool) -> None:
        if self.drills.start(manual):
            if manual:
                self._say(TESTING, T("Vigie restores a few files and compares them with yours. You can keep working."))
        elif manual and self.drills.running:
            self._drill_asked = True
            self._say(TESTING, T("A test is already running: Vigie will tell you the result."))
        elif manual:
            self._say(T("No backup to test right now"), T("Plug in the backup drive, then try again."))

    def stop(self) -> None:
        """The agent is quitting: a drill under way stops now and its copies are removed."""
        drill.stop_all()

    def drill_due(self, check_id: str, facts: dict) -> None:
        """The restore_drill check says a scheduled drill is due: start it."""
        if check_id == DRILL_CHECK and facts.get("due"):
            self.start_drill(manual=False)

    def drill_finished(self, event: DrillFinished) -> None:
        services = self.services
        now = services.clock()
        for result in event.results:
            services.journal.record(JOURNAL_KIND, now, **result.journal_data(),
                                    reason=result.reason.msgid if result.reason else None)
        already_failing = self._drill_finding_is_critical()
        services.run_checks([DRILL_CHECK])
        failed = any(r.outcome == Outcome.FAILED for r in event.results)
        # A new failure turns the restore_drill check urgent, and the engine notifies that: one
        # notification per failure, not a second one from here.
        if (event.manual or self._drill_asked) and (not failed or already_failing):
            services.notify(self.drill_summary(event.results))
        self._drill_asked = False

    def _drill_finding_is_critical(self) -> bool:
        finding = self.services.findings().get(DRILL_CHECK)
        return finding is not None and finding.severity == Severity.CRITICAL

    def drill_summary(self, results: Sequence[DrillResult]) -> Notification:
        tr = self.services.tr
        failed = [r for r in results if r.outcome == Outcome.FAILED]
        identical = sum(len(r.checked) for r in results if r.outcome == Outcome.PASSED)
        read_back = sum(len(r.checked) for r in results if r.outcome == Outcome.READABLE)
        if failed:
            return Notification(render(T("Your backup does not restore correctly"), tr),
                                render(T("Call your IT provider today. Details are in the status window."), tr),
                                Severity.CRITICAL, buttons=(Button(render(T("See the status"), tr), SHOW_STATUS),))
        if identical or read_back:
            said = [TN("{n} file restored and identical to the original.",
                       "{n} files restored and identical to the originals.", identical)] if identical else []
            if read_back:
                said.append(TN("{n} file read back from the backup, not compared: Vigie does not know where the "
                               "original is.", "{n} files read back from the backup, not compared: Vigie does not "
                               "know where the originals are.", read_back))
            title = T("Backup test passed") if identical else T("Backup test: files readable")
            return Notification(render(title, tr), " ".join(render(t, tr) for t in said), Severity.OK)
        reasons = "; ".join(render(r.reason, tr) for r in results if r.reason)
        return Notification(render(T("The backup test could not be completed"), tr), reasons, Severity.WARNING)

    def eject_drive(self) -> None:
        """« Éjecter » on the backup_drive notification: eject the drive it named, if still there."""
        services = self.services
        finding = services.findings().get(DRIVE_CHECK)
        target = finding.action.target if finding and finding.action else None
        volume = next((v for v in mounted(services.platform) if v.mount_point == target), None) if target else None
        if volume is None:  # unplugged meanwhile: nothing to eject, nothing to claim
            services.run_checks([DRIVE_CHECK])
            return
        try:
            services.platform.eject(volume)
        except PlatformError as exc:
            log.error("backup drive: eject failed: %s", exc)
            self._say(T("The backup drive could not be ejected"), exc.reason, Severity.WARNING)
            return
        log.info("backup drive ejected")
        self._say(T("You can unplug the backup drive"), T("It was ejected safely. Keep it away from the computer."),
                  Severity.OK)
        services.run_checks([DRIVE_CHECK])

    def is_enrolled_drive(self, volume: Volume) -> bool:
        """Only an enrolled destination counts: its marker's id must match (any stick could carry
        a file of that name to slip past the USB warning)."""
        for folder in self.services.config.backup_age.destinations:
            try:
                marker = read_marker(Path(volume.mount_point) / folder.relative)
            except DestinationError:
                continue
            if marker is not None and marker.id == folder.id:
                return True
        return False

    def _say(self, title: Text, body: Text, severity: Severity = Severity.INFO) -> None:
        tr = self.services.tr
        self.services.notify(Notification(render(title, tr), render(body, tr), severity))

