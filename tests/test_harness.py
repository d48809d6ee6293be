"""The harness itself: each real service answers the way later tests rely on."""

from __future__ import annotations

import subprocess

import harness


def test_dunst_receives_a_notification_with_french_text(desktop_env):
    subprocess.run(["notify-send", "-a", "Vigie", "Clé USB détectée", "Support inconnu : « prudence »"],
                   env=desktop_env, check=True, timeout=10)
    history = harness.dunst_history(desktop_env)
    assert any(n["appname"] == "Vigie" and n["summary"] == "Clé USB détectée"
               and n["body"] == "Support inconnu : « prudence »" for n in history), history


def test_both_tray_hosts_are_ready(desktop_env):
    assert harness.bus_has(desktop_env, "org.kde.StatusNotifierWatcher")
    assert harness.xembed_tray_owned(desktop_env)


def test_keyring_round_trip_is_read_back_by_secret_tool(keyring_env):
    harness.secret_store(keyring_env, "probe", '{"clé": "valeur é"}')
    assert harness.secret_lookup(keyring_env, "probe") == '{"clé": "valeur é"}'


def test_private_apt_world_has_one_regular_and_one_security_update(apt_config):
    out = subprocess.run(["apt-get", "-s", "upgrade"], env={"APT_CONFIG": apt_config, "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True, timeout=60).stdout
    inst = [line for line in out.splitlines() if line.startswith("Inst ")]
    assert len(inst) == 2
    assert sum("Debian-Security:" in line for line in inst) == 1
