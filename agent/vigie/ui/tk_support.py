"""What every Vigie window (a Tk child process of the agent) shares: fonts, what the agent sends
(come to the front; SIGTERM = close quietly), and logging of Tk callback errors.

Protocol with vigie.ui.children: a window prints READY on stdout once it can be brought to the front;
before that, SIGUSR1's default action would end it. "Come to the front" is SIGUSR1 where it exists;
Windows has no SIGUSR1, so there the agent writes a RAISE line to the window's standard input.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import sys
import threading
import tkinter as tk
from collections.abc import Callable, Mapping
from tkinter import font as tkfont
from tkinter import ttk
from types import FrameType, TracebackType
from typing import Protocol

from vigie.ui.children import RAISE  # the agent's side of the protocol (no tkinter there)
from vigie.ui.look import apply_look, prepare_process

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
    by their default action. Returns whether the window can be brought to the front: always, now that
    Windows, which has no SIGUSR1, reads RAISE lines instead (listen_for_signals)."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, lambda _signum, _frame: None)
    return True


def listen_for_signals(root: tk.Tk, on_raise: Callable[[], None], from_agent: bool = True) -> None:
    """Wake Tk's event loop when a signal arrives, without polling: the C-level handler writes to a
    pipe Tk watches. SIGUSR1 → on_raise; SIGTERM's Python handler runs here and raises Terminated.
    Windows (no SIGUSR1, and Tk watches no pipe there): a thread reads the agent's RAISE lines, and only
    when the agent started us (from_agent), never a terminal's input."""
    if not hasattr(signal, "SIGUSR1"):
        if from_agent and sys.stdin is not None:
            threading.Thread(target=_read_raise_requests, args=(root, on_raise), name="vigie-raise",
                             daemon=True).start()
        return
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
            logging.getLogger("vigie.ui").info("window brought to the front")
            on_raise()

    root.tk.createfilehandler(read_fd, tk.READABLE, on_readable)


def _read_raise_requests(root: tk.Tk, on_raise: Callable[[], None]) -> None:
    """Until the agent closes our standard input. Tcl is built with threads, so tkinter hands the
    after() call to Tk's own thread, which wakes up for it."""
    log = logging.getLogger("vigie.ui")
    try:
        for line in sys.stdin:
            if line.strip() == RAISE:
                log.info("window brought to the front")
                root.after(0, on_raise)
    except (OSError, ValueError, RuntimeError, tk.TclError) as exc:  # the window is closing
        log.debug("no longer reading the agent's requests: %s", exc)


def make_fonts(root: tk.Tk, specs: Mapping[str, tuple[int, str]]) -> dict[str, tkfont.Font]:
    """Named fonts from {name: (size, weight)}; DejaVu Sans on Linux (clean accents and « »)."""
    if sys.platform.startswith("linux"):
        family = "DejaVu Sans"
    else:
        family = tkfont.nametofont("TkDefaultFont", root).actual("family")
    tkfont.nametofont("TkDefaultFont", root).configure(family=family, size=specs["base"][0])
    return {name: tkfont.Font(root, family=family, size=size, weight=weight) for name, (size, weight) in specs.items()}


def scrolled_frame(parent: tk.Misc, padding: tuple[int, ...] = (0,)) -> ttk.Frame:
    """A frame, packed to fill `parent`, whose content scrolls when taller than the room it has (large text
    on a small screen); the scroll bar shows only then. Pack anything that must stay visible (the buttons)
    before it."""
    holder = ttk.Frame(parent)
    holder.pack(fill="both", expand=True)
    canvas = tk.Canvas(holder, highlightthickness=0, borderwidth=0,
                       background=ttk.Style(parent).lookup("TFrame", "background") or None)
    bar = ttk.Scrollbar(holder, orient="vertical", command=canvas.yview)
    canvas.configure(yscrollcommand=bar.set)
    canvas.pack(side="left", fill="both", expand=True)
    inner = ttk.Frame(canvas, padding=padding)
    item = canvas.create_window(0, 0, window=inner, anchor="nw")

    def fit(_event: object = None) -> None:
        canvas.configure(scrollregion=(0, 0, inner.winfo_reqwidth(), inner.winfo_reqheight()))
        needed = inner.winfo_reqheight() > canvas.winfo_height() > 1
        if needed and not bar.winfo_ismapped():
            bar.pack(side="right", fill="y", before=canvas)
        elif not needed and bar.winfo_ismapped():
            bar.pack_forget()
            canvas.yview_moveto(0)

    def wheel(event: tk.Event) -> None:
        if bar.winfo_ismapped():
            steps = -1 if getattr(event, "num", 0) == 4 or event.delta > 0 else 1
            canvas.yview_scroll(steps * 3, "units")

    inner.bind("<Configure>", fit)
    canvas.bind("<Configure>", lambda event: (canvas.itemconfigure(item, width=event.width), fit()))
    for sequence in ("<MouseWheel>", "<Button-4>", "<Button-5>"):  # Windows and macOS; X11's wheel buttons
        parent.winfo_toplevel().bind_all(sequence, wheel, add="+")
    return inner


def callback_error_logger(label: str) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    """For root.report_callback_exception: an error in a Tk callback goes to Vigie's log, not stderr."""
    log = logging.getLogger("vigie.ui")

    def report(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
        log.error("%s: error in a Tk callback", label, exc_info=(kind, value, trace))

    return report


def emit(line: str, label: str = "window", noun: str = "window") -> None:
    """One protocol line to the agent; if it no longer reads, the rest goes nowhere (and no error at exit).
    label and noun name the window in the log ("usb popup", "pop-up")."""
    if sys.stdout is None:
        return
    try:
        print(line, flush=True)
    except (OSError, ValueError) as exc:
        logging.getLogger("vigie.ui").warning("%s: the agent no longer reads the %s (%s)", label, noun,
                                              type(exc).__name__)
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())


class Window(Protocol):
    def raise_window(self) -> None: ...


def run_window(label: str, class_name: str, no_display: str, build: Callable[[tk.Tk], Window], raisable: bool,
               announce: bool = True, shown: Callable[[Window], None] = lambda window: None) -> int:
    """The life of a window process: Tk up (or `no_display` on stderr, exit 1), `build` the window,
    listen for the agent's signals and say READY (raisable: the handlers are installed; announce: an
    agent reads stdout), `shown`, then Tk's loop until closed or SIGTERM. label names it in the log.
    Every window gets Vigie's look here (vigie.ui.look): the theme, the OS's dark mode, the screen's scale."""
    log = logging.getLogger("vigie.ui")
    prepare_process()
    try:
        root = tk.Tk(className=class_name)
    except tk.TclError as exc:
        log.error("%s: Tk cannot start: %s", label, exc)
        print(no_display, file=sys.stderr)
        return 1
    try:
        root.report_callback_exception = callback_error_logger(label)
        apply_look(root)
        window = build(root)
        if raisable:
            listen_for_signals(root, window.raise_window, announce)  # also lets SIGTERM end an idle Tk loop
            if announce:
                emit(READY, label)  # the agent may now ask us to come to the front (see ui.children)
        shown(window)
        root.mainloop()
    except Terminated:
        log.info("%s: closed by the agent", label)
    finally:
        with contextlib.suppress(tk.TclError):
            root.destroy()
    return 0
