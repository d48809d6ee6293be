"""The first_run feature's `vigie ui first-run` assistant, declared apart from the feature: the window's
process imports this module and the window only (see vigie.launch)."""

from __future__ import annotations

import argparse

from vigie.features.base import Window
from vigie.model import T

WINDOW = "first-run"


def _window(args: argparse.Namespace) -> int:
    from vigie.features.first_run import window  # Tk: only in this child process

    return window.main(["--lang", args.lang, *(["--page", args.page] if args.page else [])])


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--page", help=argparse.SUPPRESS)  # the step it opens at (e.g. backup_folder)


ASSISTANT = Window(WINDOW, T("setup assistant"), _window, _arguments)
