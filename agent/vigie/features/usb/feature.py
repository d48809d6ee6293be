"""The usb feature: warn the moment an unknown drive is plugged in; eject or scan it on request."""

from __future__ import annotations

import argparse
from typing import ClassVar

from vigie.events import Event, MountChangeUnseen, VolumeAdded, VolumeRemoved
from vigie.features.base import Feature, Services, Window
from vigie.features.usb.events import VolumeChoice, VolumeScanned
from vigie.model import T


def _popup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--volume", required=True, help=argparse.SUPPRESS)
    parser.add_argument("--offset", default="0", help=argparse.SUPPRESS)


def _popup(args: argparse.Namespace) -> int:
    from vigie.features.usb import window  # Tk: only in this child process

    return window.main(["--volume", args.volume, "--offset", args.offset, "--lang", args.lang])


class UsbFeature(Feature):
    id: ClassVar[str] = "usb"
    handles: ClassVar[tuple[type[Event], ...]] = (VolumeAdded, VolumeRemoved, MountChangeUnseen, VolumeChoice,
                                                  VolumeScanned)
    windows: ClassVar[tuple[Window, ...]] = (Window("usb", T("alert: new USB drive"), _popup, _popup_arguments),)

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
