"""The settings feature's `vigie ui settings` window, declared apart from the feature: the window's process
imports this module and the window only (see vigie.launch)."""

from __future__ import annotations

import argparse

from vigie.features.base import Window
from vigie.model import T

WINDOW = "settings"


def _window(args: argparse.Namespace) -> int:
    from vigie.features.settings import window  # Tk: only in this child process

    return window.main(["--lang", args.lang])


SETTINGS = Window(WINDOW, T("settings"), _window)
