"""The `vigie` command's entry point (console script, `python -m vigie`, the Windows bundle).

The commands that must start fast go straight to their code: the agent (`vigie`, `vigie run`), the
windows it opens (`vigie ui NAME …`, a USB pop-up the moment a drive is mounted) and `vigie config export`,
the child through which the agent reads its settings at start and after every change. Everything else,
and anything unusual on those two lines (--help, a typo), goes to vigie.cli, whose parser declares
every feature's commands: importing it pulls in report, checks, backup and config (about 126 ms,
issue 21). The streams are made UTF-8 first on every path (see utf8_streams).
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

log = logging.getLogger("vigie.launch")
LANGUAGES = ("fr", "en")
CORE_WINDOWS = ("status", "quit-code")
HELP_WIDTH = 100  # `vigie ui NAME --help`, only ever read by a developer


def utf8_streams() -> None:
    """What Vigie reads from or writes to a pipe or a file is UTF-8, on every OS: an IT provider's tool
    reading `vigie check --json`, the agent reading `vigie config export`, the windows' messages. Windows
    would use its ANSI code page (cp1252) whenever the stream is not a console: accents garbled, and an
    emoji raising UnicodeEncodeError. A console keeps what Python chose (its own Unicode API on Windows)."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        if stream is None or not hasattr(stream, "reconfigure") or stream.encoding.lower().replace("-", "") == "utf8":
            continue  # pythonw without handles: None
        try:
            if not stream.isatty():
                stream.reconfigure(encoding="utf-8", errors=stream.errors)
        except (OSError, ValueError) as exc:  # a closed or odd handle: keep what Python chose
            log.debug("cannot make %s UTF-8: %s", stream, exc)


def main(argv: Sequence[str] | None = None) -> int:
    utf8_streams()
    words = list(sys.argv[1:] if argv is None else argv)
    if not any(word in ("-h", "--help", "--version") for word in words):
        agent, language = agent_request(words)
        if agent:
            return run_agent(language)
        if window_request(words):
            return run_window_words(words[1:])
        if words == ["config", "export"]:
            return export_settings()
    from vigie.cli import main as cli_main

    return cli_main(words)


def agent_request(words: Sequence[str]) -> tuple[bool, str | None]:
    """`vigie`, `vigie run`, with `--lang fr|en` before or after `run`: (True, language)."""
    rest = list(words)
    if rest[:1] == ["run"]:
        rest = rest[1:]
    elif rest[:1] == ["--lang"] and rest[2:3] == ["run"]:
        rest = rest[:2] + rest[3:]
    if not rest:
        return True, None
    if len(rest) == 2 and rest[0] == "--lang" and rest[1] in LANGUAGES:
        return True, rest[1]
    return False, None


def window_request(words: Sequence[str]) -> bool:
    from vigie.features import WINDOW_OWNERS  # the package alone: no feature imported

    return len(words) >= 2 and words[0] == "ui" and (words[1] in CORE_WINDOWS or words[1] in WINDOW_OWNERS)


def run_agent(language: str | None) -> int:
    settings_child = start_settings_child()  # first: its 300 ms overlap the imports below (issue 21)
    from vigie.logs import setup_logging

    setup_logging()
    from vigie.app import run_agent as agent

    return agent(language, settings_child)


def export_settings() -> int:
    """`vigie config export`: the settings in force as JSON, with only the store's imports (vigie.cli's
    would double the time a settings change takes to reach the running agent)."""
    from vigie.logs import setup_logging

    setup_logging()
    from vigie.cli_parser import EXIT_UNEXPECTED, UNEXPECTED
    from vigie.config.store import ConfigStore
    from vigie.i18n import render, resolve_language, translator

    try:
        print(ConfigStore().load().to_json())
    except Exception:  # the store answers keyring faults itself; the agent reading this keeps what it has
        log.exception("vigie config export stopped on an unexpected error")
        print(render(UNEXPECTED, translator(resolve_language(None))), file=sys.stderr)
        return EXIT_UNEXPECTED
    return 0


def start_settings_child() -> subprocess.Popen[str] | None:
    """`vigie config export`, started as vigie.platform.proc.run would (its own session, text pipes),
    before the agent imports anything; vigie.app adopts it (proc.adopt). None: started later, or never (on
    Windows the agent reads its settings itself: app.load_config)."""
    if sys.platform == "win32":
        return None
    import subprocess  # here: a window process has no use for it on Windows, where its imports are slow

    from vigie.ui.children import vigie_command

    try:
        return subprocess.Popen(vigie_command("config", "export"), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
                                start_new_session=True)
    except OSError as exc:  # app.load_config_in_child tries again, and says why if it fails too
        log.debug("settings child not started early: %s", exc)
        return None


def run_window_words(words: Sequence[str]) -> int:
    """`vigie ui NAME ARGS`: this window's own options only (the same as vigie.cli declares)."""
    args = window_arguments(words)
    from vigie.logs import setup_logging

    setup_logging(rotate=False)  # first: what the readings' programs say goes to the log, not to the window's stderr
    from vigie.platform import appearance

    appearance.readings()  # dark mode and the screen's scale, read while the window's modules load and Tk starts
    return run_window(args)


def window_arguments(words: Sequence[str]) -> argparse.Namespace:
    """NAME ARGS parsed by window NAME's own options (exits 2 with argparse's message on a bad one)."""
    name, rest = words[0], list(words[1:])
    # A width of our own: argparse's default formatter asks shutil for the terminal's, and shutil pulls in
    # bz2 and lzma (two native modules, slow to load under Windows and Wine) for a window that prints no help.
    parser = argparse.ArgumentParser(prog=f"vigie ui {name}",
                                     formatter_class=functools.partial(argparse.HelpFormatter, width=HELP_WIDTH))
    if name == "status":
        parser.add_argument("--snapshot", help=argparse.SUPPRESS)
    elif name != "quit-code":
        from vigie.features import window

        window(name).add_arguments(parser)
    parser.add_argument("--lang", choices=LANGUAGES)
    args = parser.parse_args(rest)
    args.window = name
    return args


def run_window(args: argparse.Namespace) -> int:
    """Run window `args.window` in this process (a child of the agent)."""
    from vigie.i18n import resolve_language

    args.lang = resolve_language(getattr(args, "lang", None))
    language = ["--lang", args.lang]
    if args.window == "quit-code":
        from vigie.ui import quit_code

        return quit_code.main(language)
    if args.window == "status":
        from vigie.ui import status_window

        argv = ["--snapshot", args.snapshot] if getattr(args, "snapshot", None) else []
        return status_window.main([*argv, *language])
    from vigie.features import window

    return window(args.window).main(args)
