"""The core's active pieces alone: the Notifier (backends in order, a failure never reaches the
caller, a hung backend costs seconds) and ChildWindows (real child processes, no display: a small
Python script stands in for `vigie ui NAME`). The real notification servers and Tk windows run in
test_agent, test_usb_popup and test_status_window."""

from __future__ import annotations

import logging
import signal
import sys
import textwrap
import threading
import time

import pytest

import harness
from vigie.model import Severity
from vigie.notify import Notification, Notifier
from vigie.ui import children


class Backend:
    def __init__(self, name: str, fails: bool = False, hangs: bool = False) -> None:
        self.name = name
        self.fails = fails
        self.hangs = hangs
        self.sent: list[str] = []
        self.withdrawn: list[str] = []

    def send(self, notification: Notification) -> None:
        if self.hangs:
            threading.Event().wait()  # never answers
        if self.fails:
            raise RuntimeError("no notification server")
        self.sent.append(notification.title)

    def withdraw(self, tag: str) -> None:
        if self.fails:
            raise RuntimeError("gone")
        self.withdrawn.append(tag)


@pytest.fixture
def notifier():
    made: list[Notifier] = []

    def make(*backends: Backend) -> Notifier:
        made.append(Notifier(list(backends)))
        return made[-1]

    yield make
    for one in made:
        one.stop()


def test_the_first_backend_that_works_shows_it_and_a_failure_is_only_logged(notifier, caplog):
    broken, working = Backend("broken", fails=True), Backend("working")
    with caplog.at_level(logging.INFO, logger="vigie.notify"):
        notifier(broken, working).send(Notification("Sauvegarde ancienne", "…", Severity.WARNING))
        harness.wait_for(lambda: working.sent == ["Sauvegarde ancienne"], timeout=5, what="the fallback")
    assert broken.sent == []
    assert "notification via broken failed" in caplog.text and "shown via working" in caplog.text


def test_with_no_backend_left_the_log_says_so_and_withdraw_goes_on(notifier, caplog):
    first, second = Backend("a", fails=True), Backend("b")
    with caplog.at_level(logging.WARNING, logger="vigie.notify"):
        one = notifier(first)
        one.send(Notification("Titre", "corps"))
        harness.wait_for(lambda: "notification not shown (no notification service): Titre" in caplog.text,
                         timeout=5, what="the last resort")
    both = notifier(first, second)
    both.withdraw("idle")  # the first backend's error does not keep the second from withdrawing
    harness.wait_for(lambda: second.withdrawn == ["idle"], timeout=5, what="the withdrawal")


def test_a_hung_backend_costs_seconds_not_the_agent(notifier, monkeypatch):
    monkeypatch.setattr("vigie.notify.SEND_TIMEOUT", 0.1)
    hung, working = Backend("hung", hangs=True), Backend("working")
    notifier(hung, working).send(Notification("Écran", "verrouillé"))
    harness.wait_for(lambda: working.sent == ["Écran"], timeout=5, what="the next backend after the timeout")


WINDOW = textwrap.dedent("""
    import signal, sys
    signal.signal(signal.SIGUSR1, lambda *_: print("raised", flush=True))
    print("ready", flush=True)
    print("choice " + sys.argv[-1], flush=True)
    while True:  # a window stays until it is closed
        signal.pause()
""")


@pytest.fixture
def windows(tmp_path, monkeypatch):
    if not hasattr(signal, "SIGUSR1"):
        pytest.skip("windows are raised by SIGUSR1 only where it exists")
    script = tmp_path / "window.py"
    script.write_text(WINDOW)
    monkeypatch.setattr(children, "vigie_command", lambda *args: [sys.executable, str(script), *args])
    made = children.ChildWindows()
    yield made
    made.close_all()


def test_a_window_child_reports_its_lines_and_is_raised_not_started_twice(windows):
    heard: list[str] = []
    windows.open("usb:1", "--volume", "known", window="usb", on_message=heard.append)
    harness.wait_for(lambda: heard == ["choice known"], timeout=10, what="the child's message")
    harness.wait_for(lambda: windows._children["usb:1"].ready.is_set(), timeout=5, what="ready")
    windows.open("usb:1", "--volume", "known", window="usb", on_message=heard.append)  # open again: raised
    harness.wait_for(lambda: "raised" in heard, timeout=5, what="the raise (SIGUSR1)")
    assert windows.count_open("usb:") == 1 and windows._children["usb:1"].process.poll() is None
    process = windows._children["usb:1"].process
    windows.close("usb:1")
    assert process.wait(5) is not None and windows.count_open("usb:") == 0


def test_close_all_ends_every_child(windows):
    for name in ("status", "incident"):
        windows.open(name, "x")
    processes = [child.process for child in windows._children.values()]
    windows.close_all(timeout=5)
    assert all(process.poll() is not None for process in processes)


def test_a_backend_that_hung_is_skipped_for_a_while(notifier, monkeypatch):
    """Notifications queued behind a hung server go to the next backend at once, not one timeout apart."""
    monkeypatch.setattr("vigie.notify.SEND_TIMEOUT", 0.1)
    hung, working = Backend("hung", hangs=True), Backend("working")
    calls = []
    original = hung.send
    hung.send = lambda notification: (calls.append(notification.title), original(notification))
    one = notifier(hung, working)
    one.send(Notification("Premier", "…"))
    harness.wait_for(lambda: working.sent == ["Premier"], timeout=5, what="the first, after the timeout")
    started = time.monotonic()
    one.send(Notification("Second", "…"))
    harness.wait_for(lambda: working.sent == ["Premier", "Second"], timeout=5, what="the second")
    assert time.monotonic() - started < 0.5  # not another 1.1 s timeout
    assert calls == ["Premier"]


def test_a_server_slow_at_start_is_not_set_aside(notifier, monkeypatch):
    """The session's notification server may still be starting when the agent warms up: that timeout does not
    send the next notifications to the fallback (they would lose their buttons)."""
    monkeypatch.setattr("vigie.notify.SEND_TIMEOUT", 0.1)
    slow, fallback = Backend("slow"), Backend("fallback")
    slow.warm_up = lambda: threading.Event().wait()  # never ready
    one = notifier(slow, fallback)
    one.warm_up()
    one.send(Notification("Après le démarrage", "…"))
    harness.wait_for(lambda: slow.sent == ["Après le démarrage"], timeout=5, what="the native backend, tried")
    assert fallback.sent == []
