"""Linux's own notification backend (vigie.platform.notifications) against a real notification server:
dunst on a private session bus. The agent's end-to-end notification tests (test_agent) and the real
shells' (test_shells: GNOME Shell, plasmashell, xfce4-notifyd) run the same backend inside the agent."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest
from jeepney import DBusErrorResponse

import harness
from vigie.model import Severity
from vigie.notify import Button, Notification
from vigie.platform.notifications import ServerNotifications


@pytest.fixture
def server(desktop_env, monkeypatch, tmp_path):
    """ServerNotifications on desktop_env's bus (dunst), with the clicks it hands on."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", desktop_env["DBUS_SESSION_BUS_ADDRESS"])
    icon = tmp_path / "vigie-warning.png"
    icon.write_bytes(b"")  # dunst shows no picture for it; only its path is checked
    clicked: list[str] = []
    heard = threading.Event()

    def on_action(action: str) -> None:
        clicked.append(action)
        heard.set()

    backend = ServerNotifications({Severity.WARNING: icon}, on_action, timeout=5)
    backend.heard, backend.clicked, backend.env, backend.icon = heard, clicked, desktop_env, icon
    yield backend
    backend.close()


def test_a_notification_reaches_the_server_with_its_icon_and_its_button_comes_back(server):
    server.warm_up()
    server.send(Notification("Sauvegarde ancienne", "Branchez le disque.", Severity.WARNING,
                             buttons=(Button("Voir l’état", "core:show_status"),), tag="backup"))
    assert harness.dunst_count(server.env, "displayed") == 1
    harness.press_notification_button(server.env, "core:show_status")
    assert server.heard.wait(5), "the button's action never came back"
    assert server.clicked == ["core:show_status"]
    [shown] = harness.dunst_history(server.env)
    assert (shown["summary"], shown["body"]) == ("Sauvegarde ancienne", "Branchez le disque.")
    assert shown["icon_path"] == str(server.icon) and shown["appname"] == "Vigie"


def test_withdraw_takes_it_off_the_screen_and_an_urgent_one_stays(server):
    server.send(Notification("Poste inactif", "Verrouillage dans 60 s", Severity.WARNING, tag="idle"))
    server.send(Notification("Incident", "Débranchez le réseau", Severity.CRITICAL))
    assert harness.dunst_count(server.env, "displayed") == 2
    server.withdraw("idle")
    harness.wait_for(lambda: harness.dunst_count(server.env, "displayed") == 1, timeout=5, what="the withdrawal")
    server.withdraw("idle")  # already withdrawn: nothing to do, nothing raised
    history = {n["summary"]: n for n in harness.dunst_history(server.env)}  # the withdrawn one is there too
    assert history["Incident"]["timeout"] == 0  # critical: stays until dismissed
    assert history["Poste inactif"]["timeout"] > 0


def test_with_the_server_gone_send_fails_and_a_new_one_is_reached(server, services):
    server.send(Notification("Premier", "…"))
    subprocess.run(["pkill", "-f", f"dunst -config {server.env['XDG_RUNTIME_DIR']}/dunstrc"], check=True)
    harness.wait_for(lambda: not harness.bus_has(server.env, "org.freedesktop.Notifications"), timeout=5,
                     what="dunst gone")
    with pytest.raises(DBusErrorResponse, match=r"ServiceUnknown|NoReply|NameHasNoOwner"):  # the Notifier: next backend
        server.send(Notification("Pendant la panne", "…"))
    harness.start_dunst(services, server.env)
    server.send(Notification("Après", "…"))
    assert [n["summary"] for n in harness.dunst_history(server.env)] == ["Après"]


def test_a_restarted_server_s_notifications_are_never_withdrawn_by_our_old_numbers(server, services):
    """A new server numbers from 1 again: Vigie forgets the numbers it had, or withdrawing its old reminder
    would close whatever now has that number (here another program's notification)."""
    server.send(Notification("Poste inactif", "Verrouillage dans 60 s", tag="idle"))
    subprocess.run(["pkill", "-f", f"dunst -config {server.env['XDG_RUNTIME_DIR']}/dunstrc"], check=True)
    harness.wait_for(lambda: not harness.bus_has(server.env, "org.freedesktop.Notifications"), timeout=5,
                     what="dunst gone")
    harness.start_dunst(services, server.env)
    subprocess.run(["notify-send", "Autre programme", "Rendez-vous à 14 h"], env=server.env, check=True, timeout=10)
    assert harness.dunst_count(server.env, "displayed") == 1
    harness.wait_for(lambda: not server._tags, timeout=5, what="the old numbers forgotten")
    server.withdraw("idle")
    time.sleep(0.5)  # a CloseNotification, had one been sent, is handled by then
    assert harness.dunst_count(server.env, "displayed") == 1


def test_no_server_for_a_long_time_costs_no_descriptor_per_attempt(bare_desktop, monkeypatch):
    """No notification server: every notification is tried and fails, on the one connection kept."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bare_desktop["DBUS_SESSION_BUS_ADDRESS"])
    backend = ServerNotifications({}, lambda action: None, timeout=5)
    try:
        with pytest.raises(DBusErrorResponse):
            backend.send(Notification("Premier", "…"))
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(20):
            with pytest.raises(DBusErrorResponse):
                backend.send(Notification("Encore", "…"))
        assert len(os.listdir("/proc/self/fd")) == before
    finally:
        backend.close()
