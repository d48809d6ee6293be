"""The command line's parser: argparse speaking the user's language, `--lang` at every level, and
a usage error that exits with 64 (sysexits' EX_USAGE) instead of argparse's 2, which an IT
provider's RMM reads as « urgent » (the exit codes of `vigie check`).

Help texts and metavars may be given as `Text` (English message ids, French in vigie.po): they are
rendered when the parser is built, in the language `language_in(argv)` found before parsing."""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from vigie.i18n import LANGUAGES, render, resolve_language, translator
from vigie.model import TN, T, Text

EXIT_USAGE = 64  # sysexits.h EX_USAGE
EXIT_UNEXPECTED = 70  # sysexits.h EX_SOFTWARE: a fault in Vigie itself, logged
UNEXPECTED = T("Vigie met an unexpected problem and stopped. The details are in its technical log; "
               "your IT provider can read it there.")
LANG_HELP = T("language of the messages: fr (the default) or en")

# argparse's own sentences (Python 3.11's argparse.py, its `_()` calls), so that Babel extracts them
# and vigie.po translates them. `%(…)s` placeholders are argparse's, filled by argparse.
ARGPARSE_TEXTS = (
    T("usage: "),
    T("positional arguments"),
    T("options"),
    T("subcommands"),
    T("show this help message and exit"),
    T("%(prog)s: error: %(message)s\n"),
    T("argument %(argument_name)s: %(message)s"),
    T("invalid choice: %(value)r (choose from %(choices)s)"),
    T("the following arguments are required: %s"),
    T("unrecognized arguments: %s"),
    T("expected one argument"),
    T("expected at most one argument"),
    T("expected at least one argument"),
    TN("expected %s argument", "expected %s arguments", 0),
    T("ambiguous option: %(option)s could match %(matches)s"),
    T("not allowed with argument %s"),
    T("ignored explicit argument %r"),
    T("one of the arguments %s is required"),
    T("invalid %(type)s value: %(value)r"),
    T("unexpected option string: %s"),
    T("can't open '%(filename)s': %(error)s"),
)


def language_in(argv: Sequence[str]) -> str:
    """The language asked on the command line (`--lang en` or `--lang=en`, wherever it stands; the
    last one wins), then VIGIE_LANG, then French. The saved setting is not read here: that would
    open the keyring before `--help`."""
    asked = None
    for index, word in enumerate(argv):
        if word == "--":
            break
        if word == "--lang" and index + 1 < len(argv):
            asked = argv[index + 1]
        elif word.startswith("--lang="):
            asked = word.split("=", 1)[1]
    return resolve_language(asked if asked in LANGUAGES else None)


@contextlib.contextmanager
def speaking(tr) -> Iterator[None]:
    """argparse translates its own sentences with the `_` and `ngettext` it imported from gettext
    (the global domain); pointing them at Vigie's catalogue while the parser is built and used is
    the only way short of copying its formatting code. Put back afterwards (a test may call main())."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = tr.gettext, tr.ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def _rendered(value: Any, tr) -> Any:
    return render(value, tr) if isinstance(value, Text) else value


class Parser(argparse.ArgumentParser):
    """Every parser and sub-parser of `vigie`: `--lang` on each, `Text` rendered, usage errors 64."""

    def __init__(self, *args: Any, tr, lang_default: object = argparse.SUPPRESS, **kwargs: Any) -> None:
        self.tr = tr
        kwargs["description"] = _rendered(kwargs.get("description"), tr)
        super().__init__(*args, **kwargs)
        # SUPPRESS below the top: an `--lang` given at the top is not reset by a sub-command.
        self.add_argument("--lang", choices=LANGUAGES, default=lang_default, help=LANG_HELP)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        for key in ("help", "metavar"):
            if key in kwargs:
                kwargs[key] = _rendered(kwargs[key], self.tr)
        return super().add_argument(*args, **kwargs)

    def add_subparsers(self, **kwargs: Any) -> argparse._SubParsersAction:
        kwargs.setdefault("parser_class", functools.partial(Parser, tr=self.tr))
        kwargs.setdefault("action", SubCommands)
        for key in ("metavar", "title", "help"):
            if key in kwargs:
                kwargs[key] = _rendered(kwargs[key], self.tr)
        return super().add_subparsers(**kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, argparse._("%(prog)s: error: %(message)s\n") % {"prog": self.prog, "message": message})


class SubCommands(argparse._SubParsersAction):
    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        tr = self._parser_class.keywords["tr"]
        for key in ("help", "description"):
            if key in kwargs:
                kwargs[key] = _rendered(kwargs[key], tr)
        return super().add_parser(name, **kwargs)


def whole_number(low: int, high: int, tr=None):
    """An argparse `type`: a whole number between low and high, refused in the user's words."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(render(
                T("\"{value}\" is not allowed: give a whole number from {low} to {high}.",
                  value=text, low=low, high=high), tr or translator(resolve_language())))
        return value

    convert.__name__ = "whole_number"
    return convert


def seconds(high: float, tr=None):
    """An argparse `type`: a number of seconds from 0 to high."""

    def convert(text: str) -> float:
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            value = None
        if value is None or not 0 <= value <= high:
            raise argparse.ArgumentTypeError(render(
                T("\"{value}\" is not allowed: give a number of seconds from 0 to {high}.", value=text, high=int(high)),
                tr or translator(resolve_language())))
        return value

    convert.__name__ = "seconds"
    return convert
