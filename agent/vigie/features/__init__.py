"""The features, one folder each: their checks, watchers, guard, windows, CLI, events and text.

ALL_FEATURES is a static tuple (not discovered at run time: PyInstaller sees every module; the spec
also collects every vigie submodule); its order is the order of the checks in the report and of the
features' items in the tray menu. It is built on first use (`_registry()`, PEP 562 `__getattr__`):
a `vigie ui usb` pop-up imports `vigie.features.usb.window`, hence this package, and must not pay
for importing every feature (about 150 ms before its window could appear, issue 21).
A new feature: a folder with a Feature subclass (features/base.py), one line in `_registry()` (and in
WINDOW_OWNERS if it has windows, in MENU_OWNERS if it has tray menu items), its settings in config/schema.py.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigie.check import Check
    from vigie.features.base import Feature, MenuItem, Window

# `vigie ui NAME` → where window NAME is declared (a light module beside its feature): the slim entry
# point (vigie.launch) imports that alone. tests/test_launch.py checks this table against ALL_FEATURES.
WINDOW_OWNERS = {"usb": "vigie.features.usb.windows:POPUP", "incident": "vigie.features.incident.windows:GUIDE",
                 "first-run": "vigie.features.first_run.windows:ASSISTANT",
                 "settings": "vigie.features.settings.windows:SETTINGS"}


# Feature id → the light module declaring its tray menu items (MENU; the Feature's `menu` is that tuple),
# in ALL_FEATURES order: the agent builds its menu, and shows its icon, before it imports any feature
# (issue 21). tests/test_launch.py checks this table against ALL_FEATURES.
MENU_OWNERS = {"backup": "vigie.features.backup.menu", "incident": "vigie.features.incident.menu",
               "first_run": "vigie.features.first_run.menu", "settings": "vigie.features.settings.menu"}


def menus() -> list[tuple[str, tuple[MenuItem, ...]]]:
    """(feature id, its menu items) for every feature that has some, importing their declarations alone."""
    return [(feature_id, importlib.import_module(module).MENU) for feature_id, module in MENU_OWNERS.items()]


def window(name: str) -> Window:
    """Window NAME, importing its declaration alone (KeyError: no such window)."""
    module, _, attribute = WINDOW_OWNERS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


@functools.cache
def _registry() -> tuple[type[Feature], ...]:
    from vigie.features.access.feature import AccessFeature
    from vigie.features.backup.feature import BackupFeature
    from vigie.features.cps_card.feature import CpsCardFeature
    from vigie.features.first_run.feature import FirstRunFeature
    from vigie.features.idle_lock.feature import IdleLockFeature
    from vigie.features.incident.feature import IncidentFeature
    from vigie.features.os_updates.feature import OsUpdatesFeature
    from vigie.features.protection.feature import ProtectionFeature
    from vigie.features.settings.feature import SettingsFeature
    from vigie.features.tips.feature import TipsFeature
    from vigie.features.usb.feature import UsbFeature

    return (OsUpdatesFeature, BackupFeature, IdleLockFeature, CpsCardFeature, UsbFeature, IncidentFeature,
            ProtectionFeature, AccessFeature, TipsFeature, FirstRunFeature, SettingsFeature)


def __getattr__(name: str) -> object:
    if name == "ALL_FEATURES":
        return _registry()
    if name == "ALL_CHECKS":
        return tuple(check for feature in _registry() for check in feature.checks)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


ALL_FEATURES: tuple[type[Feature], ...]  # declared for readers and type checkers; built by __getattr__
ALL_CHECKS: tuple[Check, ...]
