"""Vigie's own ctypes calls into Windows, made for real under Wine (64-bit CPython): a handle passed
without its declared type is cut to a C int and fails only there, never in a mocked test."""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys

from vigie.platform import windows


def test_the_token_says_administrator_as_windows_itself_does():
    """CI saw `vigie check` lose its sign_in check: OpenProcessToken got GetCurrentProcess()'s -1 as a
    C int (ArgumentError). Wine's user is an administrator, which IsUserAnAdmin confirms."""
    assert ctypes.windll.shell32.IsUserAnAdmin()
    assert windows.token_is_admin() is True


def test_an_unlocked_desktop_is_not_seen_locked():
    """The lock proof opens the input desktop (a pointer-sized HDESK): Wine's desktop is not locked."""
    assert windows.input_desktop_locked() is False
    assert windows.windows_lock_proof() is None


def test_the_session_ids_are_read():
    console, ours, remote = windows.session_ids()
    assert ours == console and remote is False  # Wine: one local session, at the console


POPUP_START = """
import json, sys
from vigie.launch import window_arguments
window_arguments(["usb", "--volume", "volume.json", "--lang", "fr"])
from vigie.logs import setup_logging
setup_logging(rotate=False)
from vigie.platform import appearance
appearance.readings().wait()
import vigie.features.usb.window, vigie.ui.tk_support
print(json.dumps(sorted(sys.modules)))
"""


def test_the_usb_pop_ups_start_loads_no_module_it_does_not_use(tmp_path):
    """Issue 21: under Wine each module costs the pop-up 5-8 ms (the file is found and read through the
    wineserver), and Windows' own file scanning makes it slower there too. The pop-up's start (its options,
    its log, the OS's readings, its modules) runs no program and prints no help: no subprocess, and not
    shutil with bz2 and lzma, which argparse's default help formatter pulled in."""
    out = subprocess.run([sys.executable, "-c", POPUP_START], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    modules = set(json.loads(out.stdout.splitlines()[-1]))
    assert {"vigie.features.usb.window", "tkinter", "logging"} <= modules
    assert not {"subprocess", "shutil", "bz2", "lzma", "vigie.platform.proc"} & modules
