"""What every Vigie window (a Tk child process of the agent) shares: fonts, the signals the agent
sends (SIGUSR1 = come to the front, SIGTERM = close quietly), and logging of Tk callback errors.

Protocol with vigie.ui.children: a window prints READY on stdout once SIGUSR1 is handled; before
that the signal's default action would end it.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import tkinter as tk
from collections.abc import Callable, Mapping
from tkinter import font as tkfont
from types import FrameType, TracebackType

READY = "ready"
_UNDRAWABLE = re.compile("[\U00010000-\U0010ffff\ud800-\udfff]")


def drawable(text: str) -> str:
    """Tk 8.6 cannot draw characters outside the BMP (emoji) nor lone surrogates: U+FFFD instead."""
    return _UNDRAWABLE.sub("\ufffd", text)


class Terminated(SystemExit):
    """SIGTERM: a SystemExit, so that Tk callbacks let it through to mainloop() (tkinter reports
    any other exception raised in a callback and carries on)."""


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second SIGTERM must not interrupt the exit
    raise Terminated(0)


def install_signal_handlers() -> bool:
    """As early as possible in the child: until this runs, SIGUSR1 or SIGTERM would end the process
    by their default action. Returns whether SIGUSR1 exists (not on Windows)."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    if not hasattr(signal, "SIGUSR1"):
        return False
    signal.signal(signal.SIGUSR1, lambda _signum, _frame: None)
    return True


def listen_for_signals(root: tk.Tk, on_raise: Callable[[], None]) -> None:
    """Wake Tk's event loop when a signal arrives, without polling: the C-level handler writes to a
    pipe Tk watches. SIGUSR1 → on_raise; SIGTERM's Python handler runs here and raises Terminated."""
    read_fd, write_fd = os.pipe()
    for fd in (read_fd, write_fd):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)

    def on_readable(fd: int, _mask: int) -> None:
        try:
            received = os.read(fd, 64)
        except BlockingIOError:
            return
        if hasattr(signal, "SIGUSR1") and signal.SIGUSR1 in received:
            on_raise()

    root.tk.createfilehandler(read_fd, tk.READABLE, on_readable)


def make_fonts(root: tk.Tk, specs: Mapping[str, tuple[int, str]]) -> dict[str, tkfont.Font]:
    """Named fonts from {name: (size, weight)}; DejaVu Sans on Linux (clean accents and « »)."""
    if sys.platform.startswith("linux"):
        family = "DejaVu Sans"
    else:
        family = tkfont.nametofont("TkDefaultFont", root).actual("family")
    tkfont.nametofont("TkDefaultFont", root).configure(family=family, size=specs["base"][0])
    return {name: tkfont.Font(root, family=family, size=size, weight=weight) for name, (size, weight) in specs.items()}


def callback_error_logger(window: str) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    """For root.report_callback_exception: an error in a Tk callback goes to Vigie's log, not stderr."""
    log = logging.getLogger(f"vigie.ui.{window}")

    def report(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
        log.error("%s window: error in a Tk callback", window, exc_info=(kind, value, trace))

    return report
