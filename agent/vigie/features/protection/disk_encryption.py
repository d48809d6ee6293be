"""disk_encryption: is the system disk encrypted, and every enrolled backup drive?

A stolen laptop or a lost backup drive gives away every patient file on it unless it is encrypted.
The backup drives are the folders enrolled with `vigie backup enroll` (backup_age.destinations); a
drive that is not plugged in cannot be looked at: its state when last seen is kept in the journal,
and the check runs again when a drive is plugged in (VolumeAdded).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from vigie.check import CheckContext
from vigie.config.schema import BackupFolder
from vigie.errors import VigieError
from vigie.events import Event, Tick, VolumeAdded
from vigie.features.backup.destination import locate
from vigie.features.protection.common import RANK, day_text, worst
from vigie.model import Finding, Severity, T, Text
from vigie.platform.base import (
    ENCRYPTED,
    ENCRYPTING,
    NOT_ENCRYPTED,
    SUSPENDED,
    DiskEncryption,
    PlatformError,
    Volume,
)

log = logging.getLogger(__name__)
STATE_KEY = "disk_encryption:{id}"  # journal state: the drive's encryption when last seen

TURN_ON = {
    "windows": T("Open Settings › Privacy & security › Device encryption (or BitLocker in the Control Panel) and "
                 "turn it on. Keep the recovery key somewhere safe, away from the computer."),
    "macos": T("Open System Settings › Privacy & Security › FileVault and click “Turn On”. Keep the recovery key "
               "somewhere safe, away from the Mac."),
    "linux": T("On Linux, encryption is chosen when the system is installed: ask your IT provider to reinstall it "
               "with disk encryption (LUKS), after a full backup."),
}
ENCRYPT_DRIVE = {
    "windows": T("In File Explorer, right-click the backup drive › “Turn on BitLocker”, or ask your IT provider."),
    "macos": T("In the Finder, right-click the backup drive › “Encrypt”, or ask your IT provider."),
    "linux": T("Ask your IT provider to encrypt the backup drive (LUKS), or to back up with restic or borg, "
               "which encrypt."),
}
RESUME = T("Open the Control Panel › BitLocker Drive Encryption and click “Resume protection”.")
LEAVE_ON = T("Leave the computer on and plugged in until it is finished.")


@dataclass(frozen=True)
class Part:
    """What was found for one disk."""

    severity: Severity
    title: Text
    detail: Text | None = None
    fix: Text | None = None
    facts: dict = field(default_factory=dict)


def _facts(found: DiskEncryption) -> dict:
    return {"state": found.state, "method": found.method, "volume": found.volume, "percent": found.percent,
            "detail": found.detail}


class DiskEncryptionCheck:
    id: ClassVar[str] = "disk_encryption"
    label: ClassVar[Text] = T("Disk encryption")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick, VolumeAdded)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        timeout = ctx.config.disk_encryption.timeout_seconds
        system = self._system(ctx, timeout)
        drives = self._backup_drives(ctx, timeout)
        facts = {"system": system.facts, "backup_drives": [d.facts for d in drives]}
        parts = [system, *drives]
        severity = worst([p.severity for p in parts])
        if severity == Severity.OK:
            title = (T("The disk and the backup drives are encrypted.") if drives
                     else T("This computer's disk is encrypted."))
            return Finding(self.id, Severity.OK, title, facts=facts)
        ranked = sorted((p for p in parts if p.severity != Severity.OK), key=lambda p: -RANK[p.severity])
        first = ranked[0]
        detail = first.detail
        if len(ranked) > 1:  # the next problem is said too: one thing fixed must not hide another
            also = T("Also: {other}", other=ranked[1].title)
            detail = T("{detail} {also}", detail=detail, also=also) if detail else also
        return Finding(self.id, severity, first.title, detail, first.fix, facts=facts)

    # --- the system disk ---

    def _system(self, ctx: CheckContext, timeout: float) -> Part:
        try:
            found = ctx.platform.disk_encryption(None, timeout)
        except PlatformError as exc:
            return Part(Severity.UNKNOWN, T("Vigie could not tell whether this computer's disk is encrypted."),
                        exc.reason, facts={"state": "unknown", "error": type(exc).__name__})
        facts = _facts(found)
        os_name = ctx.platform.name
        if found.state == ENCRYPTED:
            return Part(Severity.OK, T("This computer's disk is encrypted."), facts=facts)
        if found.state == NOT_ENCRYPTED:
            return Part(Severity.CRITICAL, T("This computer's disk is not encrypted."), T(
                "Anyone who takes the computer or its disk can read the patient files on it."),
                TURN_ON.get(os_name, TURN_ON["linux"]), facts)
        if found.state == ENCRYPTING:
            return Part(Severity.WARNING, T("The disk is being encrypted ({percent}%).",
                                            percent=_percent(found)), T(
                "Until it is finished, part of the disk can still be read without your password."), LEAVE_ON, facts)
        if found.state == SUSPENDED:
            return Part(Severity.WARNING, T("The disk is encrypted, but its protection is suspended."), T(
                "BitLocker's key is left readable on the disk: anyone who takes the computer can read it."),
                RESUME, facts)
        return Part(Severity.UNKNOWN, T("Vigie could not tell whether this computer's disk is encrypted."), T(
            "The encryption tool gave an answer Vigie cannot read (the system's language, perhaps)."), facts=facts)

    # --- the enrolled backup drives ---

    def _backup_drives(self, ctx: CheckContext, timeout: float) -> list[Part]:
        destinations = ctx.config.backup_age.destinations
        if not destinations:
            return []
        try:
            volumes = ctx.platform.mounted_volumes()
        except PlatformError as exc:
            log.warning("disk_encryption: mounted volumes unreadable: %s", exc)
            volumes = []
        return [self._backup_drive(destination, volumes, ctx, timeout) for destination in destinations]

    def _backup_drive(self, destination: BackupFolder, volumes: list[Volume], ctx: CheckContext,
                      timeout: float) -> Part:
        key = STATE_KEY.format(id=destination.id)
        try:
            located = locate(destination.id, destination.path, destination.relative, volumes)
        except VigieError as exc:
            log.warning("disk_encryption: backup folder unreadable: %s", exc)
            located = None
        if located is None:
            return self._absent(destination, ctx.journal.get_state(key), ctx.platform.name)
        try:
            found = ctx.platform.disk_encryption(str(located.folder), timeout)
        except PlatformError as exc:
            return Part(Severity.UNKNOWN, T("Vigie could not tell whether the backup drive “{name}” is encrypted.",
                                            name=destination.path), exc.reason,
                        facts={"path": destination.path, "present": True, "state": "unknown",
                               "error": type(exc).__name__})
        now = ctx.clock()
        if found.state in (ENCRYPTED, NOT_ENCRYPTED):
            ctx.journal.set_state(key, json.dumps({"state": found.state, "method": found.method,
                                                   "seen": now.isoformat(timespec="seconds")}))
        facts = {"path": destination.path, "present": True, **_facts(found), "seen": now.isoformat(timespec="seconds")}
        return self._drive_part(destination.path, found.state, facts, ctx.platform.name, None)

    def _absent(self, destination: BackupFolder, remembered: str | None, os_name: str) -> Part:
        facts = {"path": destination.path, "present": False, "state": None, "seen": None}
        try:
            last = json.loads(remembered) if remembered else None
            seen = datetime.fromisoformat(last["seen"]) if last else None
        except (ValueError, KeyError, TypeError):
            last, seen = None, None
        if last is None or seen is None:
            return Part(Severity.INFO, T("The backup drive “{name}” is not plugged in: Vigie will check its "
                                         "encryption when it is.", name=destination.path), facts=facts)
        facts.update(state=last.get("state"), method=last.get("method", ""), seen=last["seen"])
        return self._drive_part(destination.path, last.get("state"), facts, os_name, seen)

    def _drive_part(self, name: str, state: str | None, facts: dict, os_name: str, seen: datetime | None) -> Part:
        when = day_text(seen.date()) if seen else None
        if state == ENCRYPTED:
            title = (T("The backup drive “{name}” was encrypted when last plugged in ({date}).", name=name, date=when)
                     if when else T("The backup drive “{name}” is encrypted.", name=name))
            return Part(Severity.OK, title, facts=facts)
        if state == NOT_ENCRYPTED:
            title = (T("The backup drive “{name}” was not encrypted when last plugged in ({date}).", name=name,
                       date=when) if when else T("The backup drive “{name}” is not encrypted.", name=name))
            return Part(Severity.WARNING, title, T(
                "A backup drive that is lost or stolen gives away every patient file it holds."),
                ENCRYPT_DRIVE.get(os_name, ENCRYPT_DRIVE["linux"]), facts)
        if state in (ENCRYPTING, SUSPENDED):
            return Part(Severity.WARNING, T("The backup drive “{name}” is not fully protected yet.", name=name), T(
                "Its encryption is under way or suspended."), RESUME if state == SUSPENDED else LEAVE_ON, facts)
        return Part(Severity.INFO, T("Vigie cannot tell whether the backup folder “{name}” is encrypted.", name=name),
                    T("It is not on a drive of this computer (a network folder?): ask your IT provider."), facts=facts)


def _percent(found: DiskEncryption) -> str:
    return f"{found.percent:.0f}" if found.percent is not None else "?"
