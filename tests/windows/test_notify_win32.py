"""Notifications on Windows, under Wine: what really reaches the notification area, and a log that says so.

Wine has no WinRT toasts (desktop-notifier fails with 0x80040154, class not registered): that path is
only proven on a real Windows. The fallback, a balloon from the notification area, is real here:
Shell_NotifyIconW of Wine's shell desktop (its taskbar is on the lane's display).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from vigie import notify
from vigie.model import Severity
from vigie.ui.icons import draw_icon

WAIT = 60


@pytest.fixture
def icons(tmp_path: Path) -> dict[Severity, Path]:
    """What the agent hands the notifier: one PNG per state (app.py, _notification_icons)."""
    made = {}
    for severity in Severity:
        made[severity] = tmp_path / f"vigie-{severity.name.lower()}.png"
        draw_icon(128, severity).save(made[severity])
    return made


def deliver(notifier: notify.Notifier, caplog: pytest.LogCaptureFixture, title: str) -> str:
    """Send one notification and return the notifier's verdict line for it from the log."""
    before = len(verdicts(caplog))
    notifier.send(notify.Notification(title, "Corps du message : é à ç 🩺", Severity.WARNING))
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if len(said := verdicts(caplog)) > before:
            return said[before]
        time.sleep(0.05)
    raise TimeoutError("the notifier said nothing")


def test_the_windows_fallback_is_a_balloon_that_really_shows(icons, caplog):
    caplog.set_level(logging.INFO, logger="vigie.notify")
    notifier = notify.Notifier.default(icons, on_action=lambda action: None)
    try:
        assert [b.name for b in notifier.backends][-1] == "windows-balloon"
        assert deliver(notifier, caplog, "Vigie : sauvegarde à vérifier") == "notification shown via windows-balloon"
    finally:
        notifier.stop()
    assert icons[Severity.WARNING].with_suffix(".ico").read_bytes()[:4] == b"\0\0\1\0"  # an ICO header


def test_notifications_sent_together_all_show(icons, caplog):
    """At start the first checks send a few notifications in a row: all of them show, in order."""
    caplog.set_level(logging.INFO, logger="vigie.notify")
    notifier = notify.Notifier([notify.WindowsBalloonBackend(icons)])
    titles = [f"Vigie : point {n} à vérifier" for n in range(4)]
    try:
        for title in titles:
            notifier.send(notify.Notification(title, "Corps du message", Severity.WARNING))
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and len(verdicts(caplog)) < len(titles):
            time.sleep(0.05)
    finally:
        notifier.stop()
    assert verdicts(caplog) == ["notification shown via windows-balloon"] * len(titles)


def test_balloons_shown_from_several_threads_at_once_never_read_a_half_written_icon(icons):
    """The first balloon of a state makes that state's .ico while the others wait for it, never reading a
    half-written one (the agent's first balloon was refused « Could not load icon » 1 start in 3 under Wine).
    The Notifier sends one at a time, but a step it gave up on (too slow) may still be running when the next
    starts: four threads at once here, on one backend."""
    balloon = notify.WindowsBalloonBackend(icons)
    failures: list[BaseException] = []

    def show(n: int) -> None:
        try:
            balloon.send(notify.Notification(f"Vigie : point {n}", "Corps du message", Severity.WARNING))
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=show, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert icons[Severity.WARNING].with_suffix(".ico").read_bytes()[:4] == b"\0\0\1\0"


def test_a_finding_whose_title_is_a_whole_sentence_still_shows(icons, caplog):
    """A balloon's title holds 63 characters, its text 255: longer, Shell_NotifyIconW's caller refused the
    whole balloon (CI: « string too long (118, maximum length 64) » for the sign-in finding)."""
    caplog.set_level(logging.INFO, logger="vigie.notify")
    notifier = notify.Notifier([notify.WindowsBalloonBackend(icons)])
    title = ("Le compte de tous les jours, root, est administrateur : un programme ouvert par erreur a tous "
             "les droits sur ce poste.")
    try:
        assert deliver(notifier, caplog, title) == "notification shown via windows-balloon"
        assert deliver(notifier, caplog, "Vigie : « " + "é" * 300 + " »") == "notification shown via windows-balloon"
    finally:
        notifier.stop()
    assert notify.balloon_text(title, "Corps") == ("Vigie", f"{title}\nCorps")


def verdicts(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "vigie.notify"
            and ("shown via" in r.getMessage() or "not shown" in r.getMessage())]


def test_a_balloon_that_cannot_show_is_logged_as_not_shown(icons, caplog):
    """Issue 17: plyer's balloon was handed the PNG, LoadImage(IMAGE_ICON) refused it, nothing showed,
    and the log said "shown". Handed the PNG again (what the old code did), the log must say "not shown"."""
    caplog.set_level(logging.INFO, logger="vigie.notify")
    balloon = notify.WindowsBalloonBackend(icons)
    balloon._icons = dict(icons)  # the PNGs instead of their .ico twins
    notifier = notify.Notifier([balloon])
    try:
        verdict = deliver(notifier, caplog, "Vigie : le verrouillage a échoué")
    finally:
        notifier.stop()
    assert verdict.startswith("notification not shown")
    assert any("Could not load icon" in r.getMessage() for r in caplog.records)


def test_plyers_own_windows_path_is_not_used(icons):
    """plyer.notification on Windows starts a thread and returns: it can never report a failure."""
    notifier = notify.Notifier.default(icons, on_action=lambda action: None)
    try:
        assert "plyer" not in [b.name for b in notifier.backends]
    finally:
        notifier.stop()
