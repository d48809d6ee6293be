"""The agent's language at start (issue 21): the tray is set up in the language known then (--lang,
VIGIE_LANG, else French), and takes the settings' language once they are read."""

from __future__ import annotations

import subprocess
import sys

import harness


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
