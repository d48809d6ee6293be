"""The IT provider's policy file over the user's keyring settings: real gnome-keyring, real files,
the real `vigie` command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import harness
from vigie.config import policy
from vigie.config.schema import Config

POLICY = """\
# Déployé par InfoSanté 35
[idle_lock]
lock_after_seconds = 180
remind_after_seconds = 120

[contacts]
it_provider_name = "InfoSanté 35 — « astreinte »"
it_provider_phone = "02 99 00 00 00"
insurer_name = "Mutuelle des soignants"
insurance_policy_number = "CY-2026-0042"
"""


@pytest.fixture
def with_policy(keyring_env, tmp_path):
    def write(text: str) -> dict[str, str]:
        path = tmp_path / "policy.toml"
        path.write_text(text, encoding="utf-8")
        return dict(keyring_env, VIGIE_POLICY=str(path))

    return write


def exported(env) -> dict:
    result = harness.run_vigie(env, "config", "export")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_policy_values_win_over_the_users_and_are_locked(with_policy):
    env = with_policy(POLICY)
    harness.secret_store(env, "idle_lock", json.dumps({"schema_version": 1, "data": {"lock_after_seconds": 900}}))
    data = exported(env)
    assert data["config"]["idle_lock"]["lock_after_seconds"] == 180
    assert data["config"]["contacts"]["it_provider_name"] == "InfoSanté 35 — « astreinte »"
    assert "idle_lock.lock_after_seconds" in data["locked"] and "contacts.it_provider_phone" in data["locked"]
    assert harness.run_vigie(env, "config", "get", "idle_lock.lock_after_seconds").stdout.strip() == "180"


def test_setting_a_locked_value_is_refused_in_french_and_nothing_changes(with_policy):
    env = with_policy(POLICY)
    before = harness.secret_lookup(env, "idle_lock")
    refused = harness.run_vigie(env, "config", "set", "idle_lock.lock_after_seconds", "600")
    assert refused.returncode == 2
    assert "Ce réglage est géré par votre prestataire informatique\u00a0: il ne peut pas être changé ici." in (
        refused.stderr)
    assert harness.secret_lookup(env, "idle_lock") == before
    allowed = harness.run_vigie(env, "config", "set", "idle_lock.interval_minutes", "30")
    assert allowed.returncode == 0, allowed.stderr  # an unlocked key of the same section


def test_an_invalid_file_is_ignored_and_reported_never_a_crash(with_policy):
    env = with_policy("[idle_lock\nlock_after_seconds = 180\n")
    data = exported(env)
    assert data["config"]["idle_lock"] == json.loads(json.dumps(exported(dict(env, VIGIE_POLICY="/nonexistent"))
                                                                ["config"]["idle_lock"]))
    assert data["locked"] == []
    check = harness.run_vigie(env, "check")
    assert check.returncode in (0, 1, 2, 3)
    assert "Le fichier de réglages du prestataire n’est pas valide" in check.stdout + check.stderr


def test_an_invalid_value_is_ignored_alone(with_policy):
    env = with_policy("[idle_lock]\nlock_after_seconds = -5\nremind_after_seconds = 100\n[nope]\nx = 1\n"
                      "[os_updates]\nwhatever = 3\n")
    data = exported(env)
    assert data["config"]["idle_lock"]["remind_after_seconds"] == 100
    assert data["config"]["idle_lock"]["lock_after_seconds"] == Config().idle_lock.lock_after_seconds
    assert data["locked"] == ["idle_lock.remind_after_seconds"]
    messages = [p["msgid"] for p in data["problems"]]
    assert "IT provider's settings: the value of “{key}” is not valid; ignored." in messages
    assert "IT provider's settings: unknown section “{name}”; ignored." in messages
    assert "IT provider's settings: unknown setting “{key}”; ignored." in messages


def test_without_a_keyring_the_policy_still_applies(home_env, tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    data = exported(dict(home_env, VIGIE_POLICY=str(path)))
    assert data["read_only"] is True and data["config"]["idle_lock"]["lock_after_seconds"] == 180


def test_a_locked_list_cannot_be_changed_by_enroll(with_policy, tmp_path):
    env = with_policy('[backup_age]\ndestinations = []\n')
    folder = tmp_path / "drive"
    folder.mkdir()
    refused = harness.run_vigie(env, "backup", "enroll", str(folder))
    assert refused.returncode == 2 and "géré par votre prestataire" in refused.stderr


def test_the_quit_code_is_stored_hashed_and_checked():
    stored = policy.hash_code("1234", iterations=20_000)
    assert "1234" not in stored and stored.startswith("pbkdf2_sha256$20000$")
    assert policy.code_matches("1234", stored) and not policy.code_matches("1235", stored)
    assert not policy.code_matches("1234", "md5$1$x$y")
    parsed = policy.parse_policy({"agent": {"quit_code": stored}})
    assert parsed.quit_code == stored and not parsed.problems
    assert policy.parse_policy({"agent": {"quit_code": "1234"}}).problems  # a clear code is refused


def test_the_default_places_per_os(monkeypatch):
    monkeypatch.delenv("VIGIE_POLICY", raising=False)
    monkeypatch.setenv("PROGRAMDATA", r"C:\ProgramData")
    assert policy.policy_path("linux") == Path("/etc/vigie/policy.toml")
    assert policy.policy_path("macos") == Path("/Library/Application Support/Vigie/policy.toml")
    assert str(policy.policy_path("windows")).endswith("policy.toml")


def test_quit_protected_by_a_code_asks_for_it_in_a_window(desktop_env, start_agent, tmp_path):
    code_hash = subprocess.run([*harness.vigie_argv(), "policy", "hash-code"], input="4321\n", env=desktop_env,
                               capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    path = tmp_path / "policy.toml"
    path.write_text(f'[agent]\nquit_code = "{code_hash}"\n', encoding="utf-8")
    proc, env = start_agent(dict(desktop_env, VIGIE_POLICY=str(path)))
    assert harness.sni_menu(env, "click", "Quitter").returncode == 0
    (wid,) = harness.wait_for(lambda: harness.window_ids(env, "vigie-quit"), what="the code window")
    harness.wait_for(lambda: harness.xdo(env, "getwindowfocus").strip() == str(wid), timeout=5, what="the focus")
    harness.xdo(env, "type", "1111")
    harness.xdo(env, "key", "Return")
    harness.wait_for(lambda: "quit code: refused" in harness.vigie_log(env), what="the wrong code")
    harness.wait_for(lambda: "quit code: another try allowed" in harness.vigie_log(env), what="the pause to end")
    harness.screenshot(env, Path("/tmp/quit-code-window.png"))
    assert proc.poll() is None
    harness.xdo(env, "type", "4321")
    harness.xdo(env, "key", "Return")
    proc.wait(timeout=15)
    assert "quit code: accepted" in harness.vigie_log(env)
