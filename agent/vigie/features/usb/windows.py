"""The usb feature's `vigie ui usb` pop-up, declared apart from the feature: the pop-up's process imports
this module and the window only (no events, no guard), so that it shows sooner (issue 21)."""

from __future__ import annotations

import argparse

from vigie.features.base import Window
from vigie.model import T


def _popup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--volume", required=True, help=argparse.SUPPRESS)
    parser.add_argument("--offset", default="0", help=argparse.SUPPRESS)


def _popup(args: argparse.Namespace) -> int:
    from vigie.features.usb import window  # Tk: only in this child process

    return window.main(["--volume", args.volume, "--offset", args.offset, "--lang", args.lang])


POPUP = Window("usb", T("alert: new USB drive"), _popup, _popup_arguments)
