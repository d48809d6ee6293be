"""The tray icon and its menu: the only module that imports pystray.

Threading rules: `run()` blocks on the main thread (GTK, Win32 and AppKit want it there);
`show()` and `stop()` may be called from any thread (pystray marshals them to its loop). Making the
icon visible and changing its image are serialised (`_state_lock`): pystray's `visible = True` builds
the icon's handle, then adds it, then marks it visible; an image set in between was never shown
(Windows: the first state stayed grey « ? », issue 17). The icon's picture is changed, and the tooltip
set, only when they change (a check run again with the same verdict changes nothing on screen).
The labels are rendered when the menu is shown: set_translator() changes the language after start
(the settings arrive after the icon, issue 21).
The menu is rebuilt when its state changes: by GTK's loop on Linux; on Win32 by the icon's own thread
at the next right click, before it is shown (_build_menus_on_open), never while the user has it open.
Linux backends: AppIndicator (StatusNotifierItem) first, GTK (XEmbed) second, never `xorg`:
it has no menu and its clicks never reach the callbacks.
"""

from __future__ import annotations

import gettext
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType

from vigie.errors import VigieError
from vigie.events import SHOW_STATUS
from vigie.i18n import render
from vigie.model import Severity, T, Text
from vigie.ui.icons import load_icon

log = logging.getLogger(__name__)
LINUX_BACKENDS = ("appindicator", "gtk")
ICON_SIZE = 64
MAX_PROBLEM_LINES = 6  # menu lines for problems; the last says « … and N more » when there are more


class TrayUnavailable(VigieError):
    """No tray can be shown; `reason` is for the user."""


def load_pystray() -> tuple[ModuleType, str]:
    """Import pystray with the first backend that works (PYSTRAY_BACKEND forces one)."""
    if not sys.platform.startswith("linux"):
        import pystray

        return pystray, pystray.Icon.__module__  # "pystray._win32", "pystray._darwin"
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise TrayUnavailable(T("There is no graphical session here."), "no DISPLAY")
    forced = os.environ.get("PYSTRAY_BACKEND")
    if forced == "xorg":
        raise TrayUnavailable(T("This tray backend has no menu; Vigie does not use it."), "xorg refused")
    _name_the_program()
    errors = []
    for backend in [forced] if forced else LINUX_BACKENDS:
        os.environ["PYSTRAY_BACKEND"] = backend
        try:
            import pystray

            return pystray, backend
        except Exception as exc:  # missing typelib, no X server...: try the next backend
            errors.append(f"{backend}: {type(exc).__name__}: {exc}")
            for name in [m for m in sys.modules if m == "pystray" or m.startswith("pystray.")]:
                del sys.modules[name]
    raise TrayUnavailable(T("The notification area could not be used."), "; ".join(errors))


def _name_the_program() -> None:
    # GTK names the icon's X window after the program: "vigie" rather than "python3".
    try:
        from gi.repository import GLib

        GLib.set_prgname("vigie")
    except Exception as exc:  # no PyGObject: pystray will say so when it is imported
        log.debug("cannot set the program name: %s", exc)


@dataclass(frozen=True)
class TrayEntry:
    label: Text
    action: str  # handed to on_action: a core command or "feature:action"
    default: bool = False  # the left click (GTK) / bold item
    only_while: str | None = None  # shown only while this tooltip note is set (see show_notes)
    hidden_while: str | None = None  # hidden while it is set


class Tray:
    def __init__(self, tr: gettext.NullTranslations, entries: Sequence[TrayEntry],
                 on_action: Callable[[str], None], on_quit: Callable[[], None]) -> None:
        self.tr = tr
        self._on_action = on_action
        self._on_quit = on_quit
        self._menu_line = ""  # e.g. « Carte CPS : dans le lecteur »; "" hides the line
        self._problems: tuple[str, ...] = ()  # one menu line per problem: the state without opening anything
        self._notes: frozenset[str] = frozenset()  # keys of the tooltip notes set now (an incident is open)
        self.stopped_by: str | None = None  # the signal that stopped it (SIGTERM...), for the journal
        self._state_lock = threading.Lock()  # visible = True vs a new image: see the module's docstring
        self._shown: tuple[Severity, str] | None = None  # what show() set last
        self._pystray, self.backend = load_pystray()
        self._icon = self._pystray.Icon("vigie", load_icon(ICON_SIZE, Severity.UNKNOWN),
                                        render(T("Vigie: checking…"), tr), self._menu(entries))
        self._menu_stale = threading.Event()  # Win32: the menu is rebuilt when it is next opened
        self._built_on_open = self.backend == "pystray._win32" and _build_menus_on_open(self._icon, self)

    def _menu(self, entries: Sequence[TrayEntry]) -> object:  # a pystray.Menu
        item, menu = self._pystray.MenuItem, self._pystray.Menu
        return menu(
            item(lambda _: self._menu_line, None, enabled=False, visible=lambda _: bool(self._menu_line)),
            *(item(self._label(e.label), self._command(e.action), default=e.default,
                   visible=self._visibility(e)) for e in entries),
            # Below the actions (« Verrouiller maintenant » stays first): pystray menus have a fixed
            # list of items, so one slot per line, hidden while unused.
            menu.SEPARATOR,
            *(item(lambda _, i=i: self._problem(i), self._command(SHOW_STATUS),
                   visible=lambda _, i=i: i < len(self._problems)) for i in range(MAX_PROBLEM_LINES)),
            menu.SEPARATOR,
            item(self._label(T("Quit")), self._quit),
        )

    def _label(self, text: Text) -> Callable[[object], str]:
        return lambda _item: render(text, self.tr)

    def set_translator(self, tr: gettext.NullTranslations) -> None:
        """The language the settings chose, once they arrive (any thread)."""
        if tr is self.tr:
            return
        self.tr = tr
        with self._state_lock:
            if self._shown is None:
                self._icon.title = render(T("Vigie: checking…"), tr)
        self._update_menu()

    def _visibility(self, entry: TrayEntry) -> bool | Callable[[object], bool]:
        if entry.only_while is None and entry.hidden_while is None:
            return True
        return lambda _item: ((entry.only_while is None or entry.only_while in self._notes)
                              and (entry.hidden_while is None or entry.hidden_while not in self._notes))

    def _command(self, action: str) -> Callable[[object, object], None]:
        def callback(icon: object, item: object) -> None:  # pystray allows at most two parameters
            log.info("menu: %s", action)
            self._on_action(action)

        return callback

    def _quit(self, icon: object, item: object) -> None:
        log.info("menu: quit")
        self._on_quit()

    def run(self, on_visible: Callable[[str], None]) -> None:
        """Show the icon and block until stop(); raise TrayUnavailable if the backend cannot start."""

        failed, shown = threading.Event(), threading.Event()

        def setup(icon: object) -> None:
            if failed.is_set():
                return
            with self._state_lock:  # an image set by show() meanwhile is the one added
                self._icon.visible = True
            shown.set()
            on_visible(self.backend)

        for signum in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)):
            if signum is not None:
                signal.signal(signum, self._stop_on_signal)
        try:
            self._icon.run(setup=setup)
        except Exception as exc:  # e.g. GLib.Error when the session bus is broken
            if shown.is_set():
                # Raised while hiding: pystray closes its own notification through a service
                # that may not exist. The icon did its job; this is a clean stop.
                log.warning("tray stopped with an error: %s: %s", type(exc).__name__, exc)
                return
            # pystray's setup thread is not a daemon and waits for a loop that never started:
            # release it, or the process could never exit.
            failed.set()
            self._icon._mark_ready()  # pystray's own hook for backends
            raise TrayUnavailable(T("The notification area could not be used."), f"{type(exc).__name__}: {exc}") \
                from exc

    def _stop_on_signal(self, signum: int, _frame: object) -> None:
        self.stopped_by = signal.Signals(signum).name
        self.stop()

    def show(self, severity: Severity, tooltip: str) -> None:
        """The state and tooltip; nothing is drawn or sent to the tray host when neither changed."""
        with self._state_lock:
            if self._shown == (severity, tooltip):
                return
            if self._shown is None or self._shown[0] != severity:
                self._icon.icon = load_icon(ICON_SIZE, severity)
            if self._shown is None or self._shown[1] != tooltip:
                self._icon.title = tooltip
            self._shown = (severity, tooltip)

    def show_menu_line(self, text: str) -> None:
        """The inactive line at the top of the menu ("" hides it: nothing to say)."""
        if text != self._menu_line:
            self._menu_line = text
            self._update_menu()

    def show_problems(self, lines: Sequence[str]) -> None:
        """One menu line per problem (at most MAX_PROBLEM_LINES, the caller says « and N more »);
        clicking one opens the status window."""
        if self.backend not in LINUX_BACKENDS and not self._built_on_open:
            # macOS: pystray's update_menu replaces the NSMenu from the engine's thread, even while the
            # user has it open; the lines wait for a way to rebuild it only while it is closed.
            return
        lines = tuple(lines)[:MAX_PROBLEM_LINES]
        if lines != self._problems:
            self._problems = lines
            self._update_menu()

    def _update_menu(self) -> None:
        """GTK/AppIndicator rebuild the menu on their own loop; Win32 builds it when it is next opened (its
        update_menu destroys the menu from the calling thread, even one the user has open: under Wine, an
        update while the first checks came in left it dead to the keyboard)."""
        if self._built_on_open:
            self._menu_stale.set()
        else:
            self._icon.update_menu()

    def build_stale_menu(self) -> None:
        """The icon's own thread, on a right click, before the menu is shown: none is open then."""
        if self._menu_stale.is_set():
            self._menu_stale.clear()
            self._icon._update_menu()  # pystray's backend call, on the thread that shows the menu

    def _problem(self, index: int) -> str:
        problems = self._problems  # read once: the engine may replace it meanwhile
        return problems[index] if index < len(problems) else ""

    def show_notes(self, keys: frozenset[str]) -> None:
        """The tooltip notes set now: the menu is rebuilt when that changes items shown only with one."""
        if keys != self._notes:
            self._notes = keys
            self._update_menu()

    def stop(self) -> None:
        self._icon.stop()


def _build_menus_on_open(icon: object, tray: Tray) -> bool:
    """Win32: wrap pystray's tray-icon message handler so that a right click first rebuilds a stale menu,
    on the icon's thread, before TrackPopupMenuEx shows it; a right click while one is shown (the menu's
    own modal loop) rebuilds nothing. False when pystray's internals are not the expected ones (0.19)."""
    from pystray._util import win32

    handlers = getattr(icon, "_message_handlers", None)
    shown = handlers.get(win32.WM_NOTIFY) if isinstance(handlers, dict) else None
    if shown is None or not hasattr(icon, "_update_menu"):
        log.warning("tray: pystray's Win32 menu cannot be rebuilt on opening; no problem lines in the menu")
        return False
    showing = threading.Event()

    def on_notify(wparam: int, lparam: int) -> object:
        if lparam != win32.WM_RBUTTONUP or showing.is_set():
            return shown(wparam, lparam)
        showing.set()
        try:
            tray.build_stale_menu()
            return shown(wparam, lparam)  # TrackPopupMenuEx: returns once the menu is closed
        finally:
            showing.clear()

    handlers[win32.WM_NOTIFY] = on_notify
    tray._menu_stale.set()  # the first right click builds the menu with the state of that moment
    return True
