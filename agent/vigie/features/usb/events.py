"""What the user chose in the USB pop-up, and the end of a scan."""

from __future__ import annotations

from dataclasses import dataclass

from vigie.events import Event
from vigie.model import Text
from vigie.platform.base import ScanResult, Volume


@dataclass(frozen=True)
class VolumeChoice(Event):
    """What the user chose in the USB pop-up: known, eject, scan or close."""

    volume: Volume
    choice: str


@dataclass(frozen=True)
class VolumeScanned(Event):
    """An antivirus scan of a volume ended: a result, or the reason it could not be done."""

    volume: Volume
    result: ScanResult | None
    error: Text | None = None
    scan: int = 0  # which of the guard's scans: to know whether its drive left meanwhile
