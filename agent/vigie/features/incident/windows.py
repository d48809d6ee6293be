"""The incident feature's `vigie ui incident` guide, declared apart from the feature: the guide's
process imports this module and the window only (see vigie.launch)."""

from __future__ import annotations

import argparse

from vigie.features.base import Window
from vigie.model import T


def _guide(args: argparse.Namespace) -> int:
    from vigie.features.incident import window  # Tk: only in this child process

    return window.main(["--lang", args.lang])


GUIDE = Window("incident", T("the guide \"Do you think you are under attack?\""), _guide)
