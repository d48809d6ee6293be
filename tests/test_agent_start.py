"""The agent's start order (issue 21): the icon comes first, grey « ? », while the `vigie config export`
child reads the settings beside it; the engine and the features start once the settings arrive, and a
menu click made before that is held, then replayed. The tray is set up in the language known then
(--lang, VIGIE_LANG, else French), and takes the settings' language once they are read.

The settings are made slow for real: a Secret Service that never answers (support/silent_secret_service)
holds the child until its keyring timeout, as a hung keyring would at a practice."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

import harness
from test_agent import colour_pixels
from vigie.model import Severity
from vigie.ui.icons import COLOURS

KEYRING_TIMEOUT = "6"  # seconds the settings child waits for the silent keyring (per call)


@pytest.fixture
def hung_keyring_desktop(home_env, services, apt_config):
    env = dict(home_env, APT_CONFIG=apt_config, VIGIE_KEYRING_TIMEOUT=KEYRING_TIMEOUT,
               PYSTRAY_BACKEND="appindicator")
    env["DISPLAY"] = harness.start_xvfb(services, env)
    harness.start_bus(services, env)
    harness.start_silent_secret_service(services, env)
    harness.start_sni_tray(services, env)
    harness.start_dunst(services, env)
    return env


def test_the_icon_comes_before_the_settings_and_an_early_click_is_replayed(hung_keyring_desktop, tmp_path):
    env = hung_keyring_desktop
    agent = subprocess.Popen([sys.executable, "-m", "vigie"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        harness.wait_for(lambda: "tray visible backend=appindicator" in harness.vigie_log(env), timeout=20,
                         what="the icon")
        assert "agent core started" not in harness.vigie_log(env)  # the settings are still on their way
        assert harness.sni_menu(env, "title").stdout.strip() == "Vigie\u00a0: vérification en cours…"
        bar = Image.open(harness.screenshot(env, tmp_path / "early.png")).crop((0, 768 - 40, 1024, 768))
        # The grey « ? » shield: on gtk-sni-tray's grey bar only its white outline and « ? » stand out.
        assert colour_pixels(bar, (255, 255, 255)) > 30
        assert not any(colour_pixels(bar, COLOURS[s]) for s in (Severity.OK, Severity.WARNING, Severity.CRITICAL))

        assert harness.sni_menu(env, "click", "État de la sécurité…").returncode == 0
        harness.wait_for(lambda: "held until the settings arrive" in harness.vigie_log(env), timeout=10,
                         what="the click to be held")
        assert "window status opened" not in harness.vigie_log(env)

        harness.wait_for(lambda: "agent core started (1 held click(s))" in harness.vigie_log(env), timeout=60,
                         what="the settings (keyring timeout) and the core")
        harness.wait_for(lambda: harness.windows_of_class(env, "vigie-status"), timeout=20,
                         what="the status window the early click asked for")
        # The settings came back read-only (the keyring did not answer): the agent runs on defaults.
        harness.wait_for(lambda: "check=os_updates" in harness.vigie_log(env), timeout=30, what="the first check")
    finally:
        harness.stop(agent)
    assert agent.returncode == 0, agent.stderr.read()
    log = harness.vigie_log(env)
    assert log.index("tray visible") < log.index("agent core started") < log.index("window status opened")


def test_quit_before_the_settings_arrive_stops_cleanly(hung_keyring_desktop):
    env = hung_keyring_desktop
    agent = subprocess.Popen([sys.executable, "-m", "vigie"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        harness.wait_for(lambda: "tray visible" in harness.vigie_log(env), timeout=20, what="the icon")
        assert harness.sni_menu(env, "click", "Quitter").returncode == 0
        # No quit code can be checked before the policy is known: the quit waits for the settings.
        agent.wait(60)
    finally:
        harness.stop(agent)
    assert agent.returncode == 0
    log = harness.vigie_log(env)
    assert "quit held until the settings arrive" in log
    assert "agent stopped reason=quit" in log


def test_the_menu_takes_the_language_of_the_settings_once_they_arrive(desktop_env, apt_config):
    """The icon is set up before the settings are read, in the language known then (--lang, VIGIE_LANG,
    else French); the settings' language replaces it as soon as they arrive."""
    env = dict(desktop_env, APT_CONFIG=apt_config, PYSTRAY_BACKEND="appindicator")
    assert harness.run_vigie(env, "config", "set", "general.language", "en").returncode == 0
    agent = subprocess.Popen([sys.executable, "-m", "vigie"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        harness.wait_for(lambda: "agent core started" in harness.vigie_log(env), timeout=30, what="the core")
        # (Not the first line: a card line « CPS card: … » may come first if the machine's pcscd has one.)
        english = harness.wait_for(lambda: {"Lock now", "Quit"} <= set(harness.sni_menu(env, "labels").stdout
                                                                      .splitlines()), timeout=10, what="English")
        assert english and "Verrouiller maintenant" not in harness.sni_menu(env, "labels").stdout
    finally:
        harness.stop(agent)
