"""Vigie's own ctypes calls into Windows, made for real under Wine (64-bit CPython): a handle passed
without its declared type is cut to a C int and fails only there, never in a mocked test."""

from __future__ import annotations

import ctypes

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
