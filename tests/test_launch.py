"""The slim entry point (vigie.launch): the agent and its windows start without importing vigie.cli
(report, checks, backup, config: about 126 ms before a USB pop-up could show, issue 21).

What a process imported is read from its own `python -X importtime` trace, on a real desktop: the
window is mapped, the icon is in the tray, then the process is stopped and its trace read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import harness

NEVER_IN_A_WINDOW = ("vigie.cli", "vigie.report", "vigie.features.backup", "vigie.features.os_updates",
                     "vigie.features.protection", "vigie.check")


def imported(trace: str) -> set[str]:
    """Module names from a `-X importtime` trace on stderr."""
    return {line.rsplit("|", 1)[1].strip() for line in trace.splitlines()
            if line.startswith("import time:") and "|" in line}


def window_trace(env: dict[str, str], *argv: str, classname: str) -> tuple[set[str], str]:
    process = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "vigie", *argv], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        harness.wait_for(lambda: harness.windows_of_class(env, classname), what=f"the {classname} window")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    return imported(stderr), stderr


@pytest.mark.parametrize(("argv", "classname"), [
    (("ui", "status", "--lang", "fr"), "vigie-status"),
    (("ui", "quit-code", "--lang", "fr"), "vigie-quit"),
    (("ui", "incident", "--lang", "fr"), "vigie-incident"),
])
def test_a_window_child_never_imports_the_command_line(argv, classname, bare_desktop):
    modules, trace = window_trace(bare_desktop, *argv, classname=classname)
    assert "vigie.launch" in modules and "tkinter" in modules, trace[-2000:]
    assert not modules & set(NEVER_IN_A_WINDOW)


def test_the_usb_pop_up_imports_its_own_feature_only(bare_desktop, tmp_path):
    volume = tmp_path / "volume.json"
    volume.write_text(json.dumps({"label": "CLE", "size_bytes": 8 * 10**9, "fs_type": "vfat",
                                  "mount_point": "/media/CLE", "device": "/dev/sdz1", "uuid": "1234-ABCD",
                                  "can_scan": False}))
    modules, _ = window_trace(bare_desktop, "ui", "usb", "--volume", str(volume), "--lang", "fr",
                              classname="vigie-usb")
    assert "vigie.features.usb.window" in modules
    assert not modules & {*NEVER_IN_A_WINDOW, "vigie.config", "msgspec"}  # unlike the status window
    assert "logging.handlers" not in modules  # the agent rotates the log, windows only append
    others = {m for m in modules if m.startswith("vigie.features.") and not m.startswith("vigie.features.usb")}
    assert others == {"vigie.features.base"}
    assert not {"vigie.events", "vigie.features.usb.feature", "vigie.features.usb.guard"} & modules


def test_the_agent_starts_without_the_command_line(desktop_env, apt_config):
    env = dict(desktop_env, APT_CONFIG=apt_config)
    agent = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "vigie", "run"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        harness.wait_for(lambda: "tray visible" in harness.vigie_log(env), timeout=30, what="the icon")
        harness.wait_for(lambda: "check=os_updates" in harness.vigie_log(env), timeout=30, what="the first check")
    finally:
        harness.stop(agent)
        _, stderr = agent.communicate(timeout=15)
    modules = imported(stderr)
    assert "vigie.app" in modules and "vigie.engine" in modules
    assert "vigie.cli" not in modules
    assert "keyring" not in modules  # the settings come from the `vigie config export` child
    assert "PIL.ImageDraw" not in modules  # the icon's pictures are loaded, not drawn (vigie.ui.icons)


def test_other_commands_and_help_go_to_the_full_command_line(home_env):
    result = harness.run_vigie(home_env, "ui", "--help")
    assert result.returncode == 0 and "status" in result.stdout and "usb" in result.stdout
    bad = harness.run_vigie(home_env, "ui", "nothing")
    assert bad.returncode == 64 and "nothing" in bad.stderr  # argparse's refusal, in French, as a usage error


def test_every_declared_window_is_reachable_by_the_slim_entry_point():
    from vigie.features import ALL_FEATURES, WINDOW_OWNERS, window

    declared = {w.name: f for f in ALL_FEATURES for w in f.windows}
    assert set(WINDOW_OWNERS) == set(declared)
    for name, feature in declared.items():
        assert window(name) in feature.windows and window(name).name == name


def test_every_feature_menu_is_declared_where_the_agent_reads_it_before_the_features():
    """The agent builds its tray menu from vigie.features.menus(), before any feature is imported: the same
    items, in the same order, as ALL_FEATURES declares, and from modules that import no check."""
    code = ("import sys\nfrom vigie.features import menus\nfound = menus()\n"
            "print(sorted(m for m in sys.modules if m.startswith(('vigie.check', 'vigie.engine', 'vigie.events'))))")
    light = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert light.returncode == 0 and light.stdout.strip() == "[]", light.stdout + light.stderr
    from vigie.features import ALL_FEATURES, menus

    assert menus() == [(feature.id, feature.menu) for feature in ALL_FEATURES if feature.menu]


def test_the_slim_paths_make_the_pipes_utf8(home_env):
    """A window's messages and the agent's pipes are UTF-8 even where the locale says otherwise
    (Windows: cp1252). Here the child's locale is latin-1 and it has no display: the pop-up says so
    on stderr, in UTF-8, with its accents."""
    env = dict(home_env, PYTHONIOENCODING="latin-1", LANG="C")
    result = subprocess.run([sys.executable, "-m", "vigie", "ui", "usb", "--volume", "/nonexistent", "--lang", "fr"],
                            env=env, capture_output=True, timeout=60)
    message = result.stderr.decode("utf-8")
    assert "l’alerte «\u00a0Nouveau support USB\u00a0»" in message


def test_config_export_is_slim_and_says_what_the_full_command_line_says(keyring_env):
    """The agent reads its settings through `vigie config export` at start and after every change (issue 18:
    within 2 s): that child skips vigie.cli, and answers exactly what the full command line answers."""
    stored = harness.run_vigie(keyring_env, "config", "set", "contacts.it_provider_name", "InfoSanté 35 🦷")
    assert stored.returncode == 0, stored.stderr
    slim = subprocess.run([sys.executable, "-X", "importtime", "-m", "vigie", "config", "export"], env=dict(
        keyring_env, PYTHONIOENCODING="latin-1"), capture_output=True, timeout=60)
    assert slim.returncode == 0, slim.stderr[-2000:]
    modules = imported(slim.stderr.decode("utf-8", "replace"))
    assert "vigie.launch" in modules and "vigie.config.store" in modules
    assert not modules & {*NEVER_IN_A_WINDOW, "vigie.features.incident"}
    full = harness.run_vigie(keyring_env, "--lang", "fr", "config", "export")  # another line: vigie.cli's parser
    assert full.returncode == 0, full.stderr
    exported = json.loads(slim.stdout.decode("utf-8"))
    assert exported["config"]["contacts"]["it_provider_name"] == "InfoSanté 35 🦷"
    assert exported == json.loads(full.stdout)
