"""A Vigie window already open comes back to the front when asked again (menu « État de la sécurité… »
clicked twice, a notification's « Voir l'état »), on Windows, under Wine: real child processes, real Tk
windows, real Win32 minimise/restore.

Issue 17: the agent raised its windows with SIGUSR1, which Windows does not have: a minimised status
window stayed minimised. It now writes a "raise" line to the window's standard input.
"""

from __future__ import annotations

import ctypes
import subprocess
import sys
import time
from ctypes import wintypes
from pathlib import Path

from vigie.ui.children import ChildWindows

WAIT = 90
SW_MINIMIZE = 6
user32 = ctypes.WinDLL("user32", use_last_error=True)
WNDENUMPROC = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)
user32.EnumWindows.argtypes = [WNDENUMPROC, wintypes.LPARAM]
user32.GetWindowThreadProcessId.argtypes = [wintypes.HWND, ctypes.POINTER(wintypes.DWORD)]
user32.GetWindowTextW.argtypes = [wintypes.HWND, wintypes.LPWSTR, ctypes.c_int]
user32.IsIconic.argtypes = [wintypes.HWND]
user32.IsWindowVisible.argtypes = [wintypes.HWND]
user32.ShowWindow.argtypes = [wintypes.HWND, ctypes.c_int]


def wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def top_level_windows(pid: int) -> dict[int, str]:
    found: dict[int, str] = {}

    def visit(hwnd, _lparam):
        owner = wintypes.DWORD()
        user32.GetWindowThreadProcessId(hwnd, ctypes.byref(owner))
        if owner.value == pid and user32.IsWindowVisible(hwnd):
            title = ctypes.create_unicode_buffer(256)
            user32.GetWindowTextW(hwnd, title, 256)
            if title.value:
                found[hwnd] = title.value
        return True

    user32.EnumWindows(WNDENUMPROC(visit), 0)
    return found


def test_a_minimised_status_window_is_restored_when_asked_again(tmp_path: Path):
    snapshot = tmp_path / "status.json"
    out = subprocess.run([sys.executable, "-m", "vigie", "check", "--json"], capture_output=True, timeout=WAIT * 3)
    snapshot.write_bytes(out.stdout)
    windows = ChildWindows()
    try:
        windows.open("status", "--snapshot", str(snapshot), "--lang", "fr")
        child = windows._children["status"]
        assert child.ready.wait(WAIT), "the status window never said it was ready"
        [(hwnd, title)] = wait_for(lambda: list(top_level_windows(child.process.pid).items()), "the window")
        assert "Vigie" in title and "sécurité" in title  # French, accents intact
        user32.ShowWindow(hwnd, SW_MINIMIZE)
        wait_for(lambda: user32.IsIconic(hwnd), "the window to be minimised")

        windows.open("status", "--snapshot", str(snapshot), "--lang", "fr")  # the second click
        wait_for(lambda: not user32.IsIconic(hwnd), "the minimised window to come back")
        assert child.process.poll() is None and len(windows._children) == 1  # the same window, not a second one
    finally:
        windows.close_all()
