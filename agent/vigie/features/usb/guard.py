"""USB storage guard: a warning pop-up the moment an unknown removable volume is mounted.

Threading rules: every method runs on the engine thread (the engine hands it the Volume* events);
pop-up choices come back as VolumeChoice events, scan results as VolumeScanned, through the queue.
A scan is only called clean when the scanner answered for every file and the drive stayed in
from start to end: a drive pulled out meanwhile leaves the scanner reading an empty folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path

from vigie import paths
from vigie.events import Event, MountChangeUnseen, VolumeAdded, VolumeRemoved
from vigie.features.base import Services
from vigie.features.usb.events import VolumeChoice, VolumeScanned
from vigie.i18n import render
from vigie.model import TN, Severity, T, Text
from vigie.notify import Notification
from vigie.platform.base import PlatformError, ScanResult, Volume

log = logging.getLogger(__name__)
CHOICES = {"known", "eject", "scan", "close"}
DRIVE_LEFT = T("The drive was removed during the scan.")


def _key(volume: Volume) -> tuple[str, str]:
    return volume.device, volume.mount_point


def window_name(volume: Volume) -> str:
    return "usb:" + hashlib.sha256(f"{volume.device}|{volume.mount_point}".encode()).hexdigest()[:12]


class UsbGuard:
    def __init__(self, services: Services) -> None:
        config = services.config
        self.platform = services.platform
        self.journal = services.journal
        self.windows = services.windows
        self.notify = services.notify
        self.submit = services.submit
        self.tr = services.tr
        self.language = services.language
        self.clock = services.clock
        self.scan_timeout = config.usb_storage.scan_timeout_minutes * 60
        self.claimed = services.volume_claimed  # a feature's own drive (an enrolled backup drive)
        self._scans = 0
        self._scanning: dict[int, tuple[tuple[str, str], bool]] = {}  # scan → (its drive, pulled out meanwhile)

    def handle(self, event: Event) -> None:
        if isinstance(event, VolumeAdded):
            self.added(event.volume)
        elif isinstance(event, VolumeRemoved):
            self.removed(event.volume)
        elif isinstance(event, VolumeChoice):
            self.chose(event.volume, event.choice)
        elif isinstance(event, VolumeScanned):
            self.scanned(event.volume, event.result, event.error, event.scan)
        elif isinstance(event, MountChangeUnseen):  # which drive it was, nobody can tell: that it happened
            self.journal.record("mount_unseen", self.clock())

    def added(self, volume: Volume) -> None:
        self.journal.record("usb_inserted", self.clock(), label=volume.label, uuid=volume.uuid,
                            size_bytes=volume.size_bytes, fs_type=volume.fs_type)
        if self.claimed(volume):
            log.info("usb: enrolled backup drive mounted, no pop-up")
        elif self.journal.is_known_volume(volume.identity):
            log.info("usb: known volume mounted, no pop-up")
        else:
            self._pop_up(volume)

    def removed(self, volume: Volume) -> None:
        for scan, (key, _) in self._scanning.items():
            if key == _key(volume):
                self._scanning[scan] = (key, True)
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

    def scanned(self, volume: Volume, result: ScanResult | None, error: Text | None, scan: int = 0) -> None:
        _, left = self._scanning.pop(scan, (None, False))  # pulled out, even if put back since
        if left and result is not None and not result.infected:
            result, error = None, DRIVE_LEFT  # what was not read yet is unknown, not clean
        label = self._label(volume)
        if result is None:
            self.journal.record("usb_scan", self.clock(), label=volume.label, uuid=volume.uuid, done=False)
            self._not_done(label, error or T("The scanner gave no result."))
            return
        self.journal.record("usb_scan", self.clock(), label=volume.label, uuid=volume.uuid,
                            done=not (result.unread or left), scanner=result.scanner, findings=list(result.findings),
                            unread=result.unread)
        if result.infected:  # a threat found is a threat, even when the rest could not be read
            self.notify(Notification(
                render(T("Threat found on “{label}”: do not open it", label=label), self.tr),
                render(TN("{n} suspicious file. Eject the drive and call your IT provider.",
                          "{n} suspicious files. Eject the drive and call your IT provider.",
                          len(result.findings)), self.tr),
                Severity.CRITICAL))
        elif result.unread:
            self._not_done(label, TN("{n} file or folder could not be checked.",
                                     "{n} files or folders could not be checked.", result.unread))
        else:
            self.notify(Notification(render(T("No threat found on “{label}”", label=label), self.tr),
                                     render(T("Checked by {scanner}.", scanner=result.scanner), self.tr),
                                     Severity.OK))

    def _not_done(self, label: str, reason: Text) -> None:
        self.notify(Notification(render(T("The scan of “{label}” could not be done", label=label), self.tr),
                                 render(reason, self.tr), Severity.WARNING))

    def _start_scan(self, volume: Volume) -> None:
        """A scan takes minutes: it runs on its own thread and reports back through the engine."""
        self._scans += 1
        number = self._scans
        self._scanning[number] = (_key(volume), False)

        def scan() -> None:
            try:
                result = self.platform.scan_volume(volume, self.scan_timeout)
            except PlatformError as exc:
                log.error("usb: scan failed: %s", exc)
                self.submit(VolumeScanned(volume, None, exc.reason, number))
                return
            if not result.infected and not self._still_mounted(volume):
                log.warning("usb: the drive was no longer mounted when the scan ended")
                result = None
            self.submit(VolumeScanned(volume, result, DRIVE_LEFT if result is None else None, number))

        threading.Thread(target=scan, name="vigie-usb-scan", daemon=True).start()
        self.notify(Notification(render(T("Scanning “{label}”…", label=self._label(volume)), self.tr),
                                 render(T("Vigie will tell you the result. Do not open its files meanwhile."),
                                        self.tr), Severity.INFO))

    def _still_mounted(self, volume: Volume) -> bool:
        """On the scan thread: the same drive at the same place, once the scanner is done."""
        try:
            mounted = self.platform.mounted_volumes()
        except (PlatformError, OSError) as exc:
            log.warning("usb: cannot tell whether the scanned drive is still there: %s", exc)
            return False
        return any(_key(v) == _key(volume) and v.uuid == volume.uuid for v in mounted)

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

    @staticmethod
    def _details_file(volume: Volume) -> Path:
        return paths.runtime_dir() / f"{window_name(volume).replace(':', '-')}.json"
