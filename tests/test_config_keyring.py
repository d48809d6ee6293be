"""Configuration in the real OS keyring (gnome-keyring over a private D-Bus), and every fault path.

Each fault test shows the French message and proves nothing else was lost or overwritten,
reading the stored entries back with secret-tool.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import harness

GRACE = "os_updates.security_grace_days"


def stored(env, section):
    raw = harness.secret_lookup(env, section)
    return None if raw is None else json.loads(raw)


def test_set_is_validated_stored_in_the_keyring_and_read_back(keyring_env):
    result = harness.run_vigie(keyring_env, "config", "set", GRACE, "3")
    assert result.returncode == 0, result.stderr
    assert "Enregistré" in result.stdout
    assert stored(keyring_env, "os_updates") == {
        "schema_version": 1,
        "data": {"enabled": True, "interval_minutes": 240, "security_grace_days": 3, "timeout_seconds": 300},
    }
    assert harness.run_vigie(keyring_env, "config", "get", GRACE).stdout.strip() == "3"
    show = harness.run_vigie(keyring_env, "config", "show").stdout
    assert "[os_updates]  (enregistré)" in show and "security_grace_days = 3" in show
    assert "[general]  (par défaut)" in show


def test_words_are_accepted_for_yes_and_no(keyring_env):
    assert harness.run_vigie(keyring_env, "config", "set", "os_updates.enabled", "non").returncode == 0
    assert stored(keyring_env, "os_updates")["data"]["enabled"] is False


def test_bad_value_is_refused_in_french_and_nothing_changes(keyring_env):
    harness.run_vigie(keyring_env, "config", "set", GRACE, "3")
    before = harness.secret_lookup(keyring_env, "os_updates")
    for value, expected in [("999", "un nombre entier de 0 à 60"), ("trois", "un nombre entier de 0 à 60")]:
        result = harness.run_vigie(keyring_env, "config", "set", GRACE, value)
        assert result.returncode == 2
        assert f"Valeur refusée pour {GRACE}\u00a0: il faut {expected}." in result.stderr
    result = harness.run_vigie(keyring_env, "config", "set", "general.language", "de")
    assert "l’une de ces valeurs\u00a0: fr, en" in result.stderr
    assert harness.secret_lookup(keyring_env, "os_updates") == before


def test_unknown_key_is_refused_in_french(keyring_env):
    result = harness.run_vigie(keyring_env, "config", "set", "os_updates.colour", "bleu")
    assert result.returncode == 2
    assert "Réglage inconnu\u00a0: os_updates.colour." in result.stderr
    assert harness.secret_lookup(keyring_env, "os_updates") is None


def test_reset_one_section_keeps_the_others(keyring_env):
    harness.run_vigie(keyring_env, "config", "set", GRACE, "3")
    harness.run_vigie(keyring_env, "config", "set", "general.language", "en")
    result = harness.run_vigie(keyring_env, "config", "reset", "os_updates")
    assert result.returncode == 0
    assert "Back to the default settings: os_updates" in result.stdout  # general.language = en is honoured
    assert harness.secret_lookup(keyring_env, "os_updates") is None
    assert stored(keyring_env, "general")["data"] == {"language": "en"}


def test_every_section_is_one_entry_under_service_vigie(keyring_env):
    harness.run_vigie(keyring_env, "config", "set", GRACE, "3")
    harness.run_vigie(keyring_env, "config", "set", "general.language", "fr")
    for section in ("general", "os_updates"):
        raw = harness.secret_lookup(keyring_env, section)
        assert raw is not None and len(raw) < 1000


def test_no_keyring_backend_runs_on_defaults_read_only(bus_env):
    check = harness.run_vigie(bus_env, "check")
    assert "Réglages\u00a0: Aucun trousseau sécurisé n’est disponible sur ce poste." in check.stdout
    assert "Vigie utilise ses réglages par défaut et n’enregistre rien pour l’instant." in check.stdout
    refused = harness.run_vigie(bus_env, "config", "set", GRACE, "3")
    assert refused.returncode == 2
    assert "lecture seule" in refused.stderr
    # Never a plaintext fallback: no keyring file of any kind appeared in HOME.
    home = Path(bus_env["HOME"])
    assert not list(home.rglob("*keyring*")), list(home.rglob("*keyring*"))
    assert "no_keyring" in log_text(bus_env)


def test_locked_keyring_runs_on_defaults_and_loses_nothing(bus_env, services):
    daemon = harness.start_keyring(services, bus_env)
    harness.run_vigie(bus_env, "config", "set", GRACE, "3")
    harness.stop(daemon)
    # Same keyring file, wrong password: the collection stays locked, nobody can answer a prompt.
    locked = harness.start_keyring(services, bus_env, password="not-the-password")
    check = harness.run_vigie(bus_env, "check")
    assert "Le trousseau sécurisé du poste est verrouillé." in check.stdout
    refused = harness.run_vigie(bus_env, "config", "set", GRACE, "5")
    assert refused.returncode == 2 and "lecture seule" in refused.stderr
    harness.stop(locked)
    harness.start_keyring(services, bus_env)  # the right password again
    assert stored(bus_env, "os_updates")["data"]["security_grace_days"] == 3
    assert "keyring_locked" in log_text(bus_env)


def test_hung_keyring_is_bounded_by_the_timeout(bus_env, services):
    harness.start_silent_secret_service(services, bus_env)
    env = dict(bus_env, VIGIE_KEYRING_TIMEOUT="1")
    check = harness.run_vigie(env, "check", timeout=30)
    assert "Le trousseau sécurisé du poste ne répond pas." in check.stdout
    assert "Mises à jour du système" in check.stdout  # the checks still ran
    get = harness.run_vigie(env, "config", "get", GRACE, timeout=30)
    assert get.stdout.strip() == "7"  # the default
    assert "keyring_timeout" in log_text(env)


def test_corrupt_section_is_quarantined_and_the_others_are_kept(keyring_env):
    harness.run_vigie(keyring_env, "config", "set", "general.language", "en")
    general_before = harness.secret_lookup(keyring_env, "general")
    garbage = '{"schema_version": 1, "data": {"security_grace_days": 3,'  # truncated JSON
    harness.secret_store(keyring_env, "os_updates", garbage)
    check = harness.run_vigie(keyring_env, "check", "--lang", "fr")
    assert "Certains réglages étaient illisibles et ont été remis par défaut" in check.stdout
    assert "[os_updates]" in check.stdout
    quarantined = quarantine_files(keyring_env)
    assert [p.read_text() for p in quarantined] == [garbage]
    assert stat.S_IMODE(quarantined[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(quarantined[0].parent.stat().st_mode) == 0o700
    assert harness.secret_lookup(keyring_env, "general") == general_before
    assert harness.secret_lookup(keyring_env, "os_updates") is None  # back to defaults
    assert harness.run_vigie(keyring_env, "config", "get", "general.language").stdout.strip() == "en"


def test_invalid_values_in_a_section_are_quarantined_too(keyring_env):
    bad = json.dumps({"schema_version": 1, "data": {"security_grace_days": -4}})
    harness.secret_store(keyring_env, "os_updates", bad)
    assert harness.run_vigie(keyring_env, "config", "get", GRACE).stdout.strip() == "7"
    assert [p.read_text() for p in quarantine_files(keyring_env)] == [bad]


def test_section_from_a_newer_vigie_is_read_but_never_overwritten(keyring_env):
    newer = json.dumps({"schema_version": 99, "data": {"security_grace_days": 2, "colour": "bleu"}})
    harness.secret_store(keyring_env, "os_updates", newer)
    assert harness.run_vigie(keyring_env, "config", "get", GRACE).stdout.strip() == "2"
    refused = harness.run_vigie(keyring_env, "config", "set", GRACE, "5")
    assert refused.returncode == 2
    assert "appartiennent à une version plus récente de Vigie" in refused.stderr
    assert harness.run_vigie(keyring_env, "config", "reset").returncode == 2
    check = harness.run_vigie(keyring_env, "check")
    assert "Ces réglages viennent d’une version plus récente de Vigie." in check.stdout
    assert harness.secret_lookup(keyring_env, "os_updates") == newer
    assert not quarantine_files(keyring_env)
    # The other sections stay writable.
    assert harness.run_vigie(keyring_env, "config", "set", "general.language", "en").returncode == 0


def quarantine_files(env) -> list[Path]:
    return sorted((Path(env["XDG_DATA_HOME"]) / "Vigie" / "quarantine").glob("*"))


def log_text(env) -> str:
    return (Path(env["XDG_STATE_HOME"]) / "Vigie" / "log" / "vigie.log").read_text()


def test_export_gives_the_agent_values_and_problems(keyring_env):
    from vigie.config.store import LoadedConfig

    harness.run_vigie(keyring_env, "config", "set", "lock.locker_command", "i3lock -n")
    harness.secret_store(keyring_env, "os_updates", "not json")
    exported = harness.run_vigie(keyring_env, "config", "export")
    assert exported.returncode == 0 and exported.stderr == ""
    loaded = LoadedConfig.from_json(exported.stdout)
    assert loaded.config.lock.locker_command == "i3lock -n"
    assert loaded.stored_sections == {"lock"}
    assert [(p.code, p.section) for p in loaded.problems] == [("section_invalid", "os_updates")]
    assert loaded.problems[0].message.params["path"].startswith(keyring_env["XDG_DATA_HOME"])
    assert LoadedConfig.from_json(loaded.to_json()) == loaded


def test_agent_config_child_with_a_hung_keyring_gives_defaults(bus_env, services, monkeypatch):
    from vigie.app import load_config_in_child

    harness.start_silent_secret_service(services, bus_env)
    for key in os.environ.keys() - bus_env.keys():  # the child inherits exactly the test's session
        monkeypatch.delenv(key)
    for key, value in dict(bus_env, VIGIE_KEYRING_TIMEOUT="1").items():
        monkeypatch.setenv(key, value)
    loaded = load_config_in_child(timeout=30)
    assert loaded.read_only
    assert [p.code for p in loaded.problems] == ["keyring_timeout"]
    assert loaded.config.os_updates.security_grace_days == 7


def test_agent_in_process_read_with_a_hung_keyring_gives_defaults(bus_env, services, monkeypatch):
    """The Windows agent reads its settings in its own process (issue 17): a keyring that never answers
    still costs one bounded wait, then defaults, read-only, with the reason. Run here on the real
    gnome-keyring stand-in that never answers; on Windows the same store calls Credential Manager."""
    from vigie.app import load_config_in_process

    harness.start_silent_secret_service(services, bus_env)
    for key, value in dict(bus_env, VIGIE_KEYRING_TIMEOUT="1").items():
        monkeypatch.setenv(key, value)
    loaded = load_config_in_process()
    assert loaded.read_only
    assert [p.code for p in loaded.problems] == ["keyring_timeout"]


def test_agent_in_process_read_that_breaks_keeps_the_policy(policy_dir, monkeypatch, caplog):
    """A bug in the store (not a keyring fault, which it answers itself) must not stop the agent: it
    runs on defaults under the IT provider's policy, read-only, and the log has the traceback. The
    store's load is replaced by one that raises: no real part raises there on demand."""
    from vigie import app
    from vigie.config.store import ConfigStore

    policy_file = harness.policy_file("[idle_lock]\nlock_after_seconds = 180\n", policy_dir)
    monkeypatch.setenv("VIGIE_POLICY", str(policy_file))
    monkeypatch.setattr(ConfigStore, "load", lambda self: 1 / 0)
    loaded = app.load_config_in_process()
    assert loaded.read_only and [p.code for p in loaded.problems] == ["keyring_error"]
    assert loaded.config.idle_lock.lock_after_seconds == 180 and "idle_lock.lock_after_seconds" in loaded.locked
    assert "ZeroDivisionError" in caplog.text


# Issue 15, point 7: entries that cannot be decoded. Each is planted with secret-tool in the real
# gnome-keyring, as another program (or a damaged keyring) could leave it.
UNDECODABLE = {
    "idle_lock": "[" * 1500,  # nested too deep for any JSON parser: RecursionError
    "usb_storage": json.dumps({"schema_version": "1", "data": ["enabled"]}),  # wrong types
    # Valid, but far longer than any entry Vigie writes (secret-tool stores up to about 8 KB).
    "notifications": " " * 6000 + '{"schema_version":1,"data":{"enabled":false}}',
    "contacts": b'{"schema_version":1,"data":{"it_provider_name":"\xff\xfe"}}',  # not UTF-8
}


def plant_undecodable(env) -> None:
    for section, value in UNDECODABLE.items():
        data = value if isinstance(value, bytes) else value.encode()
        subprocess.run(["secret-tool", "store", "--label", f"Vigie {section}", "service", "Vigie", "username",
                        section], env=dict(env), input=data, check=True, timeout=30)


def test_undecodable_entries_are_quarantined_alone_and_every_command_works(keyring_env):
    """A 1.5 KB entry of nested `[` made every `vigie` command crash (RecursionError, exit 1), `config
    reset` included, and the agent dropped every section blaming the keyring."""
    harness.run_vigie(keyring_env, "config", "set", GRACE, "3")
    kept = harness.secret_lookup(keyring_env, "os_updates")

    plant_undecodable(keyring_env)
    get = harness.run_vigie(keyring_env, "config", "get", "idle_lock.lock_after_seconds")
    assert (get.returncode, get.stdout.strip()) == (0, "300"), get.stderr  # the default
    assert "Traceback" not in get.stderr
    assert get.stderr.count("Certains réglages étaient illisibles et ont été remis par défaut") == len(UNDECODABLE)
    assert harness.run_vigie(keyring_env, "config", "get", GRACE).stdout.strip() == "3"  # the others are kept
    copies = quarantine_files(keyring_env)
    assert sorted(p.read_bytes() for p in copies) == sorted(
        v if isinstance(v, bytes) else v.encode() for v in UNDECODABLE.values())
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in copies)
    assert all(harness.secret_lookup(keyring_env, section) is None for section in UNDECODABLE)
    assert harness.secret_lookup(keyring_env, "os_updates") == kept

    plant_undecodable(keyring_env)
    exported = harness.run_vigie(keyring_env, "config", "export")  # what the agent reads at start
    loaded = json.loads(exported.stdout)
    assert loaded["read_only"] is False and loaded["config"]["os_updates"]["security_grace_days"] == 3
    assert loaded["config"]["notifications"]["enabled"] is True  # the default: the padded value was not read
    assert sorted(p["section"] for p in loaded["problems"]) == sorted(UNDECODABLE)
    assert {p["code"] for p in loaded["problems"]} == {"section_invalid"}

    plant_undecodable(keyring_env)
    check = harness.run_vigie(keyring_env, "check")
    assert "Traceback" not in check.stderr and "Mises à jour du système" in check.stdout  # the checks ran
    assert check.stdout.count("illisibles et ont été remis par défaut") == len(UNDECODABLE)
    assert all(f"[{section}]" in check.stdout for section in UNDECODABLE)
    assert "trousseau" not in check.stdout  # the keyring itself is not blamed

    plant_undecodable(keyring_env)
    reset = harness.run_vigie(keyring_env, "config", "reset")
    assert reset.returncode == 0 and "Traceback" not in reset.stderr, reset.stderr
    assert all(harness.secret_lookup(keyring_env, s) is None for s in [*UNDECODABLE, "os_updates"])
    log = log_text(keyring_env)
    assert "config section idle_lock is invalid (RecursionError" in log
    assert "config section contacts is invalid (UnicodeEncodeError" in log
    assert "config section notifications is invalid (ValueError: 6045 characters" in log
