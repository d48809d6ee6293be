"""The features, one folder each: their checks, watchers, guard, windows, CLI, events and text.

ALL_CHECKS is a static tuple (not discovered at run time) so PyInstaller sees every module.
"""

from vigie.check import Check
from vigie.features.backup.backup_age import BackupAgeCheck
from vigie.features.backup.backup_drive import BackupDriveCheck
from vigie.features.backup.restore_drill import RestoreDrillCheck
from vigie.features.cps_card.check import CpsCardCheck
from vigie.features.idle_lock.check import IdleLockCheck
from vigie.features.idle_lock.lock_policy import LockPolicyCheck
from vigie.features.os_updates.check import OsUpdatesCheck

ALL_CHECKS: tuple[Check, ...] = (OsUpdatesCheck(), BackupAgeCheck(), BackupDriveCheck(), RestoreDrillCheck(),
                                 IdleLockCheck(), LockPolicyCheck(), CpsCardCheck())
