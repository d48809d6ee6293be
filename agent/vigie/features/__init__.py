"""The features, one folder each: their checks, watchers, guard, windows, CLI, events and text.

ALL_FEATURES is a static tuple (not discovered at run time) so PyInstaller sees every module; its
order is the order of the checks in the report and of the features' items in the tray menu.
A new feature: a folder with a Feature subclass (features/base.py), one line here, its settings
in config/schema.py.
"""

from vigie.check import Check
from vigie.features.access.feature import AccessFeature
from vigie.features.backup.feature import BackupFeature
from vigie.features.base import Feature
from vigie.features.cps_card.feature import CpsCardFeature
from vigie.features.first_run.feature import FirstRunFeature
from vigie.features.idle_lock.feature import IdleLockFeature
from vigie.features.incident.feature import IncidentFeature
from vigie.features.os_updates.feature import OsUpdatesFeature
from vigie.features.protection.feature import ProtectionFeature
from vigie.features.tips.feature import TipsFeature
from vigie.features.usb.feature import UsbFeature

ALL_FEATURES: tuple[type[Feature], ...] = (OsUpdatesFeature, BackupFeature, IdleLockFeature, CpsCardFeature,
                                           UsbFeature, IncidentFeature, ProtectionFeature, AccessFeature,
                                           TipsFeature, FirstRunFeature)
ALL_CHECKS: tuple[Check, ...] = tuple(check for feature in ALL_FEATURES for check in feature.checks)
