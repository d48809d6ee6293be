"""USB storage guard: a warning pop-up the moment an unknown removable volume is mounted.

Threading rules: every method runs on the engine thread (the engine dispatches Volume* events
here); pop-up choices come back as VolumeChoice events through the engine's queue.
"""

from __future__ import annotations

import gettext
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from vigie import paths
from vigie.events import Event, VolumeChoice, VolumeScanned
from vigie.features.backup.destination import DestinationError, read_marker  # enrolled drives: the backup watch's
from vigie.i18n import render
from vigie.journal import Journal
from vigie.model import TN, Severity, T, Text
from vigie.notify import Notification
from vigie.platform.base import Platform, PlatformError, ScanResult, Volume
from vigie.ui.children import ChildWindows

log = logging.getLogger(__name__)
CHOICES = {"known", "eject", "scan", "close"}


def window_name(volume: Volume) -> str:
    return "usb:" + hashlib.sha256(f"{volume.device}|{volume.mount_point}".encode()).hexdigest()[:12]


class UsbGuard:
    def __init__(self, platform: Platform, journal: Journal, windows: ChildWindows,
                 notify: Callable[[Notification], None], submit: Callable[[Event], None],
                 tr: gettext.NullTranslations, language: str, clock: Callable[[], datetime],
                 scan_timeout: float = 1800.0, backup_folders: Sequence[tuple[str, str]] = ()) -> None:
        self.platform = platform
        self.journal = journal
        self.windows = windows
        self.notify = notify
        self.submit = submit
        self.tr = tr
        self.language = language
        self.clock = clock
        self.scan_timeout = scan_timeout
        self.backup_folders = tuple(backup_folders)  # enrolled destinations: (id, path inside their drive)

    def added(self, volume: Volume) -> None:
        self.journal.record("usb_inserted", self.clock(), label=volume.label, uuid=volume.uuid,
                            size_bytes=volume.size_bytes, fs_type=volume.fs_type)
        if self._is_backup_drive(volume):
            log.info("usb: enrolled backup drive mounted, no pop-up")
        elif self.journal.is_known_volume(volume.identity):
            log.info("usb: known volume mounted, no pop-up")
        else:
            self._pop_up(volume)

    def removed(self, volume: Volume) -> None:
        self.windows.close(window_name(volume))
        self._details_file(volume).unlink(missing_ok=True)
        self.journal.record("usb_removed", self.clock(), label=volume.label, uuid=volume.uuid)

    def chose(self, volume: Volume, choice: str) -> None:
        log.info("usb: user chose %s", choice)
        self.journal.record("usb_choice", self.clock(), choice=choice, label=volume.label, uuid=volume.uuid)
        if choice == "known":
            self.journal.remember_volume(volume.identity, volume.label, self.clock())
        elif choice == "eject":
            self._eject(volume)
        elif choice == "scan":
            self._start_scan(volume)

    def scanned(self, volume: Volume, result: ScanResult | None, error: Text | None) -> None:
        label = self._label(volume)
        if result is None:
            self.journal.record("usb_scan", self.clock(), label=volume.label, uuid=volume.uuid, done=False)
            self.notify(Notification(render(T("The scan of “{label}” could not be done", label=label), self.tr),
                                     render(error, self.tr), Severity.WARNING))
            return
        self.journal.record("usb_scan", self.clock(), label=volume.label, uuid=volume.uuid, done=True,
                            scanner=result.scanner, findings=list(result.findings))
        if result.infected:
            self.notify(Notification(
                render(T("Threat found on “{label}”: do not open it", label=label), self.tr),
                render(TN("{n} suspicious file. Eject the drive and call your IT provider.",
                          "{n} suspicious files. Eject the drive and call your IT provider.",
                          len(result.findings)), self.tr),
                Severity.CRITICAL))
        else:
            self.notify(Notification(render(T("No threat found on “{label}”", label=label), self.tr),
                                     render(T("Checked by {scanner}.", scanner=result.scanner), self.tr),
                                     Severity.OK))

    def _start_scan(self, volume: Volume) -> None:
        """A scan takes minutes: it runs on its own thread and reports back through the engine."""

        def scan() -> None:
            try:
                self.submit(VolumeScanned(volume, self.platform.scan_volume(volume, self.scan_timeout)))
            except PlatformError as exc:
                log.error("usb: scan failed: %s", exc)
                self.submit(VolumeScanned(volume, None, exc.reason))

        threading.Thread(target=scan, name="vigie-usb-scan", daemon=True).start()
        self.notify(Notification(render(T("Scanning “{label}”…", label=self._label(volume)), self.tr),
                                 render(T("Vigie will tell you the result. Do not open its files meanwhile."),
                                        self.tr), Severity.INFO))

    def _pop_up(self, volume: Volume) -> None:
        details = self._details_file(volume)
        try:
            paths.replace_private_file(details, json.dumps({
                "label": volume.label, "size_bytes": volume.size_bytes, "fs_type": volume.fs_type,
                "mount_point": volume.mount_point, "device": volume.device, "uuid": volume.uuid,
                "can_scan": self._can_scan(),
            }))  # ASCII escapes: a mount point may hold bytes that are not UTF-8
        except OSError as exc:
            log.error("usb: cannot write the pop-up details: %s", exc)
            return
        offset = self.windows.count_open("usb:")
        self.windows.open(window_name(volume), "--volume", str(details), "--lang", self.language,
                          "--offset", str(offset), window="usb",
                          on_message=lambda message: self._message(volume, message))
        log.info("usb: pop-up for a new volume (%s)", volume.fs_type)

    def _message(self, volume: Volume, message: str) -> None:
        kind, _, choice = message.partition(" ")
        if kind == "choice" and choice in CHOICES:
            self.submit(VolumeChoice(volume, choice))

    def _label(self, volume: Volume) -> str:
        return volume.label or render(T("the drive"), self.tr)

    def _eject(self, volume: Volume) -> None:
        label = self._label(volume)
        try:
            self.platform.eject(volume)
        except PlatformError as exc:
            log.error("usb: eject failed: %s", exc)
            self.notify(Notification(render(T("“{label}” could not be ejected", label=label), self.tr),
                                     render(exc.reason, self.tr), Severity.WARNING))
            return
        self.notify(Notification(render(T("You can unplug “{label}”", label=label), self.tr),
                                 render(T("It was ejected safely."), self.tr), Severity.INFO))

    def _can_scan(self) -> bool:
        try:
            return self.platform.scanner_available()
        except OSError as exc:
            log.warning("usb: cannot tell whether a scanner exists: %s", exc)
            return False

    def _is_backup_drive(self, volume: Volume) -> bool:
        """Only an enrolled destination counts: its marker's id must match (any stick could carry
        a file of that name to slip past the warning)."""
        for destination_id, relative in self.backup_folders:
            try:
                marker = read_marker(Path(volume.mount_point) / relative)
            except DestinationError:
                continue
            if marker is not None and marker.id == destination_id:
                return True
        return False

    @staticmethod
    def _details_file(volume: Volume) -> Path:
        return paths.runtime_dir() / f"{window_name(volume).replace(':', '-')}.json"
