"""The os_updates feature: one passive check, nothing to watch."""

from __future__ import annotations

from typing import ClassVar

from vigie.check import Check
from vigie.features.base import Feature
from vigie.features.os_updates.check import OsUpdatesCheck


class OsUpdatesFeature(Feature):
    id: ClassVar[str] = "os_updates"
    checks: ClassVar[tuple[Check, ...]] = (OsUpdatesCheck(),)
