"""The usb feature: warn the moment an unknown drive is plugged in; eject or scan it on request."""

from __future__ import annotations

from typing import ClassVar

from vigie.events import Event, MountChangeUnseen, VolumeAdded, VolumeRemoved
from vigie.features.base import Feature, Services, Window
from vigie.features.usb.events import VolumeChoice, VolumeScanned
from vigie.features.usb.windows import POPUP


class UsbFeature(Feature):
    id: ClassVar[str] = "usb"
    handles: ClassVar[tuple[type[Event], ...]] = (VolumeAdded, VolumeRemoved, MountChangeUnseen, VolumeChoice,
                                                  VolumeScanned)
    windows: ClassVar[tuple[Window, ...]] = (POPUP,)

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.guard = None
        if services.config.usb_storage.enabled:
            from vigie.features.usb.guard import UsbGuard  # the agent's part: not for the pop-up's process

            self.guard = UsbGuard(services)

    def handle(self, event: Event) -> None:
        if self.guard is not None:
            self.guard.handle(event)

    def wants_volume_events(self) -> bool:
        return self.guard is not None
