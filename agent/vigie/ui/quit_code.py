"""« Quitter Vigie » when the IT provider protects it with a code (policy.toml, [agent] quit_code).

A small Tk child window (`vigie ui quit-code`): it reads the hashed code from the machine's policy
file itself (nothing secret on the command line), checks what is typed, and prints "choice quit"
for the agent only when it matches. A wrong code waits a second before the next try.
Threading: everything runs on the main thread, inside Tk's event loop.
"""

from __future__ import annotations

import argparse
import logging
import tkinter as tk
from tkinter import ttk

from vigie.config import policy
from vigie.i18n import LANGUAGES, resolve_language
from vigie.logs import setup_logging
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
NBSP = "\u00a0"
STRINGS = {
    "fr": {"title": "Quitter Vigie", "prompt": f"Votre prestataire informatique protège l’arrêt de Vigie{NBSP}: "
           f"entrez son code.", "quit": "Quitter Vigie", "cancel": "Annuler",
           "wrong": "Code incorrect.", "no_display": "Vigie : la fenêtre ne peut pas s’ouvrir (aucun écran)."},
    "en": {"title": "Quit Vigie", "prompt": "Your IT provider protects Vigie from being stopped: enter their code.",
           "quit": "Quit Vigie", "cancel": "Cancel", "wrong": "Wrong code.",
           "no_display": "Vigie: the window cannot open (no display)."},
}


class QuitCodeWindow:
    def __init__(self, root: tk.Tk, strings: dict[str, str], stored: str | None) -> None:
        self.root, self.strings, self.stored = root, strings, stored
        root.title(strings["title"])
        root.attributes("-topmost", True)
        make_fonts(root, {"base": (11, "normal")})
        frame = ttk.Frame(root, padding=20)
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text=strings["prompt"], wraplength=360).pack(anchor="w")
        self.entry = ttk.Entry(frame, show="•", width=24)
        self.entry.pack(anchor="w", pady=(12, 4))
        self.message = ttk.Label(frame, text="", foreground="#b42318")
        self.message.pack(anchor="w")
        buttons = ttk.Frame(frame)
        buttons.pack(anchor="e", pady=(12, 0))
        self.quit_button = ttk.Button(buttons, text=strings["quit"], command=self.submit)
        self.quit_button.pack(side="left", padx=(0, 8))
        ttk.Button(buttons, text=strings["cancel"], command=root.destroy).pack(side="left")
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
        self.message.configure(text=self.strings["wrong"])
        self.quit_button.state(["disabled"])  # slows guessing down
        self.root.after(RETRY_MS, lambda: self.quit_button.state(["!disabled"]))

    def raise_window(self) -> None:
        self.root.deiconify()
        self.root.lift()
        self.entry.focus_force()


def run(language: str, raisable: bool) -> int:
    strings = STRINGS.get(language, STRINGS["fr"])
    stored = policy.read_policy(policy.policy_path()).quit_code
    return run_window("quit code", CLASS_NAME, strings["no_display"],
                      lambda root: QuitCodeWindow(root, strings, stored), raisable)


def main(argv: list[str] | None = None) -> int:
    raisable = install_signal_handlers()
    try:
        parser = argparse.ArgumentParser(prog="vigie ui quit-code")
        parser.add_argument("--lang", choices=LANGUAGES)
        args = parser.parse_args(argv)
        setup_logging()
        return run(resolve_language(args.lang), raisable)
    except Terminated:
        return 0
