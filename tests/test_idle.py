"""Idle watch on a real X server: remind, cancel on input, lock on time, never during a call."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import harness
from vigie.features.idle_lock.guard import PRESENT_ACTION
from vigie.platform.windows import idle_milliseconds, media_in_use_from_consent_store

REMIND, LOCK = 2, 4


def configure(env, remind=REMIND, lock=LOCK):
    # The first check's warnings (updates, backups) would share the screen with the reminders, some of
    # them late under load: these tests count reminders on screen, so the checks' notifications are off
    # (the idle guard's reminders and tip do not go through that setting).
    settings = (("idle_lock.remind_after_seconds", remind), ("idle_lock.lock_after_seconds", lock),
                ("notifications.enabled", "non"))
    for key, value in settings:
        assert harness.run_vigie(env, "config", "set", key, str(value)).returncode == 0


def touch(env) -> float:
    """Real input through XTEST: resets the X server's idle counter."""
    harness.xdo(env, "mousemove_relative", "--", "7", "7")
    harness.xdo(env, "mousemove_relative", "--", "-7", "-7")
    return time.monotonic()


def displayed_notifications(env) -> int:
    return harness.dunst_count(env, "displayed")


SEEN_UP_TO: dict[str, int] = {}  # session bus -> last notification id before the test proper


def reminders(env) -> list[dict]:
    seen = SEEN_UP_TO.get(env["DBUS_SESSION_BUS_ADDRESS"], 0)
    return [n for n in harness.dunst_history(env) if n["summary"].startswith("Poste inactif") and n["id"] > seen]


def reminders_logged(env) -> int:
    return harness.vigie_log(env).count("idle watch: active -> reminded")


def new_reminder(env, before: int, timeout: float = 5) -> None:
    harness.wait_for(lambda: reminders_logged(env) > before, timeout=timeout, what="a new reminder")


def started_idle_agent(desktop_env, start_agent, **kwargs):
    configure(desktop_env, **kwargs)
    touch(desktop_env)  # the X server has been idle since it started
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: "check=cps_card" in harness.vigie_log(env), what="the first round of checks")
    # The user keeps working until the watch has seen it. While a reminder is up the watch looks every
    # 2 s, as long as the test's remind delay: one input just after a look is seen at the next one
    # with 2 s of idleness again, and the reminder stays. Input every 50 ms leaves no such gap; once
    # the watch is active, the test's next input starts a full, clean reminder window.
    harness.wait_for(lambda: touch(env) and watch_phase(env) == "active", what="the idle watch to be active")
    forget_notifications(env)  # a start-up reminder (idle since before the agent: any countdown) is not the test's
    return env


def forget_notifications(env) -> None:
    """From now on reminders(env) lists only newer notifications (dunst cannot clear its history)."""
    SEEN_UP_TO[env["DBUS_SESSION_BUS_ADDRESS"]] = max((n["id"] for n in harness.dunst_history(env)), default=0)


def watch_phase(env) -> str:
    """The idle watch's phase, from its last logged change ("active" before any change)."""
    changes = [line for line in harness.vigie_log(env).splitlines() if "idle watch: " in line and " -> " in line]
    return changes[-1].rpartition(" -> ")[2] if changes else "active"


def test_reminder_in_french_then_lock_on_time(desktop_env, start_agent):
    env = started_idle_agent(desktop_env, start_agent)
    before = reminders_logged(env)
    last_input = touch(env)
    new_reminder(env, before, timeout=LOCK)
    harness.wait_for(lambda: harness.screen_grabbed(env), timeout=LOCK + 2, what="the lock")
    error = time.monotonic() - last_input - LOCK
    assert abs(error) <= 1.0, f"locked {error:+.2f} s off"
    shown = reminders(env)
    assert shown and {n["summary"] for n in shown} == {"Poste inactif\u00a0: verrouillage dans 2 s"}
    body = "Bougez la souris ou cliquez sur «\u00a0Je suis là\u00a0» pour rester connecté."
    assert {n["body"] for n in shown} == {body}


def test_input_after_the_reminder_cancels_the_lock_and_withdraws_it(desktop_env, start_agent):
    env = started_idle_agent(desktop_env, start_agent, remind=2, lock=6)
    before = reminders_logged(env)
    touch(env)
    new_reminder(env, before)
    harness.wait_for(lambda: displayed_notifications(env) == 1, timeout=2, what="the reminder on screen")
    withdrawn = None
    back = time.monotonic()
    while time.monotonic() - back < 5:  # the user is back and working, past the lock time
        touch(env)
        if withdrawn is None and displayed_notifications(env) == 0:
            withdrawn = time.monotonic() - back
        time.sleep(0.3)
    assert withdrawn is not None and withdrawn < 3
    assert not harness.screen_grabbed(env)
    assert "idle watch: reminded -> active" in harness.vigie_log(env)


def test_i_am_here_button_keeps_the_session_open(desktop_env, start_agent):
    env = started_idle_agent(desktop_env, start_agent, remind=2, lock=5)
    before = reminders_logged(env)
    touch(env)
    new_reminder(env, before)
    harness.wait_for(lambda: displayed_notifications(env) == 1, timeout=2, what="the reminder on screen")
    harness.press_notification_button(env, PRESENT_ACTION)  # « Je suis là », no mouse move
    # The watch counts the click as input: active again, then (nobody touching) a fresh reminder,
    # and the lock it cancelled never came in between.
    harness.wait_for(lambda: "idle watch: reminded -> active" in harness.vigie_log(env), what="the click to count")
    new_reminder(env, before + 1, timeout=5)
    assert not harness.screen_grabbed(env)
    assert "screen locked via" not in harness.vigie_log(env)


def test_an_already_locked_screen_is_not_locked_twice(desktop_env, start_agent):
    env = started_idle_agent(desktop_env, start_agent)
    locker = subprocess.Popen(["i3lock", "-n", "-c", "000000"], env=env)
    try:
        harness.wait_for(lambda: harness.screen_grabbed(env), what="the user's own lock")
        with_idle = harness.vigie_log(env)
        # At the lock threshold the watch finds the keyboard held by another locker: it waits for
        # the user's return from then on, and never locks on top.
        harness.wait_for(lambda: "already locked by another program" in harness.vigie_log(env)[len(with_idle):],
                         timeout=LOCK + 3, what="the watch to see the screen locked")
        assert len(harness.lockers_on(env)) == 1
        assert "screen locked via" not in harness.vigie_log(env)[len(with_idle):]
    finally:
        locker.terminate()
        locker.wait(5)


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a /dev/video node needs root")
def test_no_lock_while_a_camera_is_in_use_and_the_tooltip_says_why(desktop_env, start_agent):
    camera = Path("/dev/video97")
    camera.touch()  # a stand-in node; the detector looks for processes holding /dev/video* open
    holder = subprocess.Popen(["sleep", "60"], stdin=camera.open("rb"))
    try:
        env = started_idle_agent(desktop_env, start_agent)
        touch(env)
        harness.wait_for(lambda: "idle watch: reminded -> postponed" in harness.vigie_log(env), timeout=LOCK + 3,
                         what="the postponement")
        assert not harness.screen_grabbed(env)
        expected = ("Vigie\u00a0: 2 points à vérifier — verrouillage automatique suspendu\u00a0: caméra ou micro "
                    "en cours d’utilisation")  # once every first check is in (they run beside the engine)
        harness.wait_for(lambda: harness.sni_menu(env, "title").stdout.strip() == expected, what="the tooltip")
        holder.terminate()  # the call ends: the lock comes at the next look
        holder.wait(5)
        harness.wait_for(lambda: harness.screen_grabbed(env), timeout=35, what="the lock after the call")
    finally:
        holder.kill()
        holder.wait()
        camera.unlink()


def test_after_an_automatic_lock_a_tip_once_a_day(desktop_env, start_agent):
    env = started_idle_agent(desktop_env, start_agent)
    for round_ in (1, 2):
        touch(env)
        harness.wait_for(lambda n=round_: harness.vigie_log(env).count("screen locked via i3lock") == n,
                         timeout=LOCK + 3, what="the automatic lock")
        touch(env)  # the user types the password (input, as for a real unlock)...
        for locker in harness.lockers_on(env):  # ...and the locker exits: that wakes the watcher
            locker.terminate()
        harness.wait_for(lambda n=round_: harness.vigie_log(env).count("idle watch: locked -> active") == n,
                         timeout=5, what="the return to be noticed")
    tip = "Vigie a verrouillé le poste pendant votre absence"
    tips = [n for n in harness.dunst_history(env) if n["summary"] == tip]
    assert len(tips) == 1
    assert tips[0]["body"] == "La prochaine fois, Super + L (ou Ctrl + Alt + L) le verrouille en une seconde."


def test_idle_lock_check_in_french(home_env, services):
    no_screen = harness.run_vigie(home_env, "check", "--json")
    import json

    finding = next(c for c in json.loads(no_screen.stdout)["checks"] if c["id"] == "idle_lock")
    assert finding["severity"] == "unknown"
    assert finding["title"] == "Vigie ne peut pas verrouiller ce poste quand il reste sans surveillance."
    env = dict(home_env, DISPLAY=harness.start_xvfb(services, home_env))
    finding = next(c for c in json.loads(harness.run_vigie(env, "check", "--json").stdout)["checks"]
                   if c["id"] == "idle_lock")
    assert (finding["severity"], finding["facts"]["source"]) == ("ok", "x11")
    assert finding["title"] == "Vigie verrouille ce poste après 5 minutes sans utilisation."


@pytest.mark.parametrize(
    ("last_input", "now", "expected"),
    [
        (1_000, 61_000, 60_000),
        (0xFFFF_FC18, (1 << 32) + 59_000, 60_000),  # GetTickCount wrapped after 49.7 days
        (5_000, (3 << 32) + 65_000, 60_000),  # months of uptime: only the low 32 bits matter
    ],
)
def test_windows_idle_survives_the_tick_wrap(last_input, now, expected):
    assert idle_milliseconds(last_input, now) == expected


def test_windows_consent_store_in_use_means_stop_time_zero():
    assert media_in_use_from_consent_store([133_000_000_000, 0]) is True
    assert media_in_use_from_consent_store([133_000_000_000]) is False
    assert media_in_use_from_consent_store([]) is False


@pytest.mark.parametrize(("desktop", "source"), [("gnome", "gnome"), ("kde", "kde")])
def test_desktop_idle_services_are_read_over_d_bus(bus_env, services, monkeypatch, desktop, source):
    from vigie.platform.linux import LinuxPlatform

    proc = services.start([sys.executable, str(harness.SUPPORT / "idle_service.py"), desktop, "123456"], bus_env,
                          stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "READY"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus_env["DBUS_SESSION_BUS_ADDRESS"])
    monkeypatch.delenv("DISPLAY", raising=False)
    state = LinuxPlatform().idle_state()
    assert (state.seconds, state.source) == (123.456, source)


def test_no_idle_source_is_not_supported_with_a_french_reason(bus_env, monkeypatch):
    from vigie.i18n import render, translator
    from vigie.platform.base import NotSupported
    from vigie.platform.linux import LinuxPlatform

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus_env["DBUS_SESSION_BUS_ADDRESS"])
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(NotSupported) as caught:
        LinuxPlatform().idle_state()
    assert render(caught.value.reason, translator("fr")) == (
        "Sur ce bureau, Vigie ne peut pas savoir depuis combien de temps le poste est inutilisé.")
    assert "gnome:" in caught.value.log_detail and "x11:" in caught.value.log_detail
