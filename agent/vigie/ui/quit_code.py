"""« Quitter Vigie » when the IT provider protects it with a code (policy.toml, [agent] quit_code).

A small Tk child window (`vigie ui quit-code`): it reads the hashed code from the machine's policy
file itself (nothing secret on the command line), checks what is typed, and prints "choice quit"
for the agent only when it matches. A wrong code waits a second before the next try.
Threading: everything runs on the main thread, inside Tk's event loop.
"""

from __future__ import annotations

import argparse
import gettext
import logging
import tkinter as tk
from tkinter import ttk

from vigie.config import policy
from vigie.i18n import LANGUAGES, render, resolve_language, translator
from vigie.logs import setup_logging
from vigie.model import T
from vigie.ui.look import palette, px
from vigie.ui.tk_support import (
    Terminated,
    emit,
    install_signal_handlers,
    make_fonts,
    run_window,
)

log = logging.getLogger(__name__)
CLASS_NAME = "vigie-quit"
RETRY_MS = 1000
TITLE = T("Quit Vigie")  # also the button
PROMPT = T("Your IT provider protects Vigie from being stopped: enter their code.")
CANCEL = T("Cancel")
WRONG_CODE = T("Wrong code.")
NO_DISPLAY = T("Vigie: the window cannot open (no display).")  # on stderr, when Tk cannot start


class QuitCodeWindow:
    def __init__(self, root: tk.Tk, tr: gettext.NullTranslations, stored: str | None) -> None:
        self.root, self.tr, self.stored = root, tr, stored
        root.title(render(TITLE, tr))
        root.attributes("-topmost", True)
        make_fonts(root, {"base": (11, "normal")})
        frame = ttk.Frame(root, padding=20)
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text=render(PROMPT, tr), wraplength=px(root, 360)).pack(anchor="w")
        self.entry = ttk.Entry(frame, show="•", width=24)
        self.entry.pack(anchor="w", pady=(12, 4))
        self.message = ttk.Label(frame, text="", foreground=palette(root).error)
        self.message.pack(anchor="w")
        buttons = ttk.Frame(frame)
        buttons.pack(anchor="e", pady=(12, 0))
        self.quit_button = ttk.Button(buttons, text=render(TITLE, tr), command=self.submit)
        self.quit_button.pack(side="left", padx=(0, 8))
        ttk.Button(buttons, text=render(CANCEL, tr), command=root.destroy).pack(side="left")
        self.entry.bind("<Return>", lambda _event: self.submit())
        root.bind("<Escape>", lambda _event: root.destroy())
        root.after(100, self.raise_window)  # take the keyboard: the code is typed at once

    def submit(self) -> None:
        if self.quit_button.instate(["disabled"]):
            return  # the pause after a wrong code holds for the Return key too
        if self.stored and policy.code_matches(self.entry.get(), self.stored):
            emit("choice quit")
            log.info("quit code: accepted")
            self.root.destroy()
            return
        log.warning("quit code: refused")
        self.entry.delete(0, "end")
        self.message.configure(text=render(WRONG_CODE, self.tr))
        self.quit_button.state(["disabled"])  # slows guessing down
        self.root.after(RETRY_MS, self.allow_another_try)

    def allow_another_try(self) -> None:
        self.quit_button.state(["!disabled"])
        log.info("quit code: another try allowed")

    def raise_window(self) -> None:
        self.root.deiconify()
        self.root.lift()
        self.entry.focus_force()


def run(language: str, raisable: bool) -> int:
    tr = translator(language)
    stored = policy.read_policy(policy.policy_path()).quit_code
    return run_window("quit code", CLASS_NAME, render(NO_DISPLAY, tr),
                      lambda root: QuitCodeWindow(root, tr, stored), raisable)


def main(argv: list[str] | None = None) -> int:
    raisable = install_signal_handlers()
    try:
        parser = argparse.ArgumentParser(prog="vigie ui quit-code")
        parser.add_argument("--lang", choices=LANGUAGES)
        args = parser.parse_args(argv)
        setup_logging(rotate=False)
        return run(resolve_language(args.lang), raisable)
    except Terminated:
        return 0
