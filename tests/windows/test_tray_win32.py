"""The tray on Windows' own notification area (pystray's win32 backend, Shell_NotifyIconW), under Wine.

Run by tests/test_windows_lane.py with a Windows CPython; the shell desktop of the lane's Wine has
the taskbar that receives the icon.
"""

from __future__ import annotations

import gettext
import threading

import pystray._win32 as pystray_win32
import pytest

from vigie.model import Severity
from vigie.ui import tray as tray_module

WAIT = 60  # Wine on 2 loaded cores


def test_a_state_shown_while_the_icon_is_being_added_is_the_one_on_screen(monkeypatch):
    """Issue 17: the first icon stayed grey « ? » while the state was orange (3 starts out of 3).
    pystray's `visible = True` builds the icon handle, then NIM_ADDs it, then marks the icon visible; the
    agent's first show() landing in between set an image nobody ever sent. Here the engine's show() is
    made to land exactly there (no sleep: each side waits for the other), then we check that the last
    image handed to Shell_NotifyIconW is the current one."""
    handle_built, show_called, show_returned = threading.Event(), threading.Event(), threading.Event()
    sent_handles: list[int] = []
    original_update, original_message = pystray_win32.Icon._update_icon, pystray_win32.Icon._message

    def update_icon_then_let_the_engine_in(self):
        original_update(self)
        if not handle_built.is_set():  # the first time: inside `visible = True`, before NIM_ADD
            handle_built.set()
            show_called.wait(WAIT)
            show_returned.wait(3)  # the fixed tray holds show() until the icon is added: do not wait for it

    def record_message(self, code, flags, **kwargs):
        if "hIcon" in kwargs:
            sent_handles.append(kwargs["hIcon"])
        return original_message(self, code, flags, **kwargs)

    monkeypatch.setattr(pystray_win32.Icon, "_update_icon", update_icon_then_let_the_engine_in)
    monkeypatch.setattr(pystray_win32.Icon, "_message", record_message)
    tray = tray_module.Tray(gettext.NullTranslations(), [], lambda action: None, lambda: None)
    visible = threading.Event()

    def engine() -> None:
        assert handle_built.wait(WAIT)
        show_called.set()
        tray.show(Severity.WARNING, "Vigie: 1 point to check")
        show_returned.set()
        assert visible.wait(WAIT)
        tray.stop()

    thread = threading.Thread(target=engine, daemon=True)
    thread.start()
    tray.run(on_visible=lambda backend: visible.set())
    thread.join(WAIT)
    icon = tray._icon
    assert show_returned.is_set() and visible.is_set()
    assert icon._icon_valid, "the orange image was set but never sent to the notification area"
    assert sent_handles and sent_handles[-1] == icon._icon_handle


def test_the_backend_is_windows_own():
    _pystray, backend = tray_module.load_pystray()
    assert backend == "pystray._win32"
    with pytest.raises(ImportError):
        __import__("gi")  # nothing of Linux's GTK stack is installed on this Windows
