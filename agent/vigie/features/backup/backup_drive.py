"""backup_drive: the backup drive must not stay plugged in.

Ransomware encrypts every drive it can reach, the backup drive too. Once a backup has finished,
the drive should be unplugged. The drive counts as busy while files on it keep changing; after
`unplug_after_minutes` of quiet (or since it was plugged in, when no backup ran), Vigie asks for
it to be unplugged, with a button that ejects it safely.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from vigie.check import CheckContext
from vigie.config.schema import BackupFolder
from vigie.events import Event, Tick, VolumeAdded, VolumeRemoved
from vigie.features.backup import scan, sources
from vigie.features.backup.destination import DestinationError, Located
from vigie.model import Action, Finding, Severity, T, Text
from vigie.platform.base import Volume

ACTIVITY_LIMITS = scan.Limits(max_entries=5_000, max_seconds=0.3)
SINCE_KEY = "backup_drive.mounted_since.{id}"
EJECT = "eject_drive"  # the notification's « Éjecter » button: BackupFeature.act(EJECT)
EJECT_DRIVE = f"backup:{EJECT}"


def drive_of(folder: Path, volumes: list[Volume]) -> Volume | None:
    """The removable drive holding folder, if any. An internal disk or a network share cannot be
    unplugged, so they are not this check's business (the age check still watches them)."""
    holding = [v for v in volumes if Path(v.mount_point) == folder or Path(v.mount_point) in folder.parents]
    if not holding:
        return None
    nearest = max(holding, key=lambda v: len(Path(v.mount_point).parts))
    return nearest if nearest.removable else None


class BackupDriveCheck:
    id: ClassVar[str] = "backup_drive"
    label: ClassVar[Text] = T("Backup drive")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick, VolumeAdded, VolumeRemoved)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        now = ctx.clock()
        folders = ctx.config.backup_age.destinations
        if not folders:
            # Not "all is well": nothing is watched. INFO, as backups may go elsewhere (restic, NAS).
            return Finding(self.id, Severity.INFO, T("No backup drive is enrolled."))
        volumes = sources.mounted(ctx.platform)
        plugged = []
        for folder in folders:
            located = self._located(folder, volumes)
            drive = drive_of(located.folder.resolve(), volumes) if located else None
            key = SINCE_KEY.format(id=folder.id)
            if drive is None:
                ctx.journal.set_state(key, "")
                continue
            since = ctx.journal.get_state(key)
            if not since:
                since = now.isoformat()
                ctx.journal.set_state(key, since)
            plugged.append((folder, located, drive, datetime.fromisoformat(since)))
        if not plugged:
            return Finding(self.id, Severity.OK, T("The backup drive is unplugged."))
        return self._judge(plugged, now, ctx.config.backup_drive.unplug_after_minutes)

    @staticmethod
    def _located(folder: BackupFolder, volumes: list[Volume]) -> Located | None:
        try:
            return sources.locate(folder, volumes)
        except DestinationError:
            return None  # backup_age reports a damaged marker; here it is just "not found"

    def _judge(self, plugged: list, now: datetime, unplug_after_minutes: float) -> Finding:
        grace = timedelta(minutes=unplug_after_minutes)
        overdue, wait = None, None
        for folder, located, drive, since in plugged:
            quiet_since = max(since, *(t for t in (located.marker.last_backup, self._last_write(located))
                                       if t is not None))
            left = (quiet_since + grace - now).total_seconds()
            if left <= 0 and overdue is None:
                overdue = (folder, drive, quiet_since)
            elif left > 0:
                wait = left if wait is None else min(wait, left)
        if overdue is None:
            plugged_in = T("The backup drive is plugged in: unplug it once the backup is done.")
            eject = Action(EJECT_DRIVE, T("Eject"), plugged[0][2].mount_point)  # the button on its card
            return Finding(self.id, Severity.OK, plugged_in, action=eject, recheck_seconds=wait + 1 if wait else None)
        folder, drive, quiet_since = overdue
        minutes = int((now - quiet_since).total_seconds() // 60)
        return Finding(
            self.id, Severity.WARNING, T("Unplug the backup drive"),
            T("It has been plugged in for {minutes} min with no backup running. Ransomware would encrypt it "
              "along with the computer.", minutes=minutes),
            T("Click “Eject”, then unplug it and keep it in another room."),
            Action(EJECT_DRIVE, T("Eject"), drive.mount_point),
            facts={"mount_point": drive.mount_point, "quiet_minutes": minutes},
            recheck_seconds=wait + 1 if wait else None,
        )

    @staticmethod
    def _last_write(located: Located) -> datetime | None:
        newest = scan.newest_mtime(str(located.folder), ACTIVITY_LIMITS)
        return datetime.fromtimestamp(newest.mtime, UTC) if newest.mtime is not None else None
