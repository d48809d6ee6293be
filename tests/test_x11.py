"""The one X connection Linux's X11 questions share (platform/x11.py, issue 21), on real Xvfb servers:
it leaves no garbage behind, follows DISPLAY, comes back after the X server restarted, and a question
that hangs costs the next ones nothing."""

from __future__ import annotations

import gc
import os
import subprocess
import time

import pytest

import harness
from vigie.bounded import CallTimeout
from vigie.platform import linux, x11


@pytest.fixture
def x_server(home_env, services, monkeypatch):
    """Xvfb, and this process pointed at it (the platform reads DISPLAY)."""
    display = harness.start_xvfb(services, home_env)
    monkeypatch.setenv("DISPLAY", display)
    return display


def unreachable_after(questions: int) -> int:
    gc.collect()
    for _ in range(questions):
        linux.x11_idle()
    return gc.collect()


def test_many_questions_leave_no_garbage_behind(x_server):
    """A connection per question left python-xlib's per-connection classes as cyclic garbage, hundreds
    of objects a question: 4-5 MB of the agent's memory in the soak."""
    linux.x11_idle()
    assert unreachable_after(200) < 200


def test_the_connection_follows_display(home_env, services, x_server, monkeypatch):
    linux.x11_idle()
    other = harness.start_xvfb(services, home_env, screen="800x600x24")
    monkeypatch.setenv("DISPLAY", other)
    assert x11.ask(lambda connection: connection.screen().width_in_pixels, 2.0, "test") == 800


def test_a_restarted_x_server_is_asked_on_a_new_connection(home_env, monkeypatch):
    first = harness.Services()
    display = harness.start_xvfb(first, home_env)
    monkeypatch.setenv("DISPLAY", display)
    try:
        linux.x11_idle()
    finally:
        first.close()
    again = start_xvfb_on(display, home_env)  # the same display, a new server
    try:
        idle_ms, _saver_on = linux.x11_idle()  # the old connection is dead: asked again on a new one
        assert idle_ms >= 0
    finally:
        again.terminate()
        again.wait(10)


def test_a_question_that_hangs_costs_the_next_ones_nothing(x_server):
    with pytest.raises(CallTimeout):
        x11.ask(lambda _connection: time.sleep(3), 0.5, "test-hang")
    started = time.monotonic()
    assert linux.x11_idle()[0] >= 0
    assert time.monotonic() - started < 1.5  # not behind the hung question's connection


def start_xvfb_on(display: str, env: dict[str, str]) -> subprocess.Popen:
    server = subprocess.Popen(["Xvfb", display, "-nolisten", "tcp", "-noreset"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = f"/tmp/.X11-unix/X{display.lstrip(':')}"
    harness.wait_for(lambda: os.path.exists(socket), timeout=10, what="Xvfb's socket")
    return server
