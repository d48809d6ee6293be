"""The IT provider's policy file over the user's keyring settings: real gnome-keyring, real files,
the real `vigie` command."""

from __future__ import annotations

import json
import os
import stat
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


# A folder only root may write, as /etc/vigie is: Vigie trusts a policy only there (issue 15, point 14).
# pytest's tmp_path is under /tmp, which everyone may write: a policy there is ignored.


@pytest.fixture
def with_policy(keyring_env, policy_dir):
    def write(text: str) -> dict[str, str]:
        path = policy_dir / "policy.toml"
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


def test_without_a_keyring_the_policy_still_applies(home_env, policy_dir):
    path = policy_dir / "policy.toml"
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


def test_quit_protected_by_a_code_asks_for_it_in_a_window(desktop_env, start_agent, policy_dir):
    code_hash = subprocess.run([*harness.vigie_argv(), "policy", "hash-code"], input="4321\n", env=desktop_env,
                               capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    path = policy_dir / "policy.toml"
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


def flat(text: str) -> str:
    """The text without its spaces: the check's table wraps long lines, paths at their hyphens too."""
    return "".join(text.split())


def test_a_fifo_at_the_policy_path_is_ignored_never_a_hang(keyring_env, policy_dir):
    """Issue 15, point 8: a FIFO at the policy path blocked `vigie check` for ever (open() waits for a
    writer). It is not a regular file: ignored, and said so."""
    fifo = policy_dir / "policy.toml"
    os.mkfifo(fifo, 0o644)
    env = dict(keyring_env, VIGIE_POLICY=str(fifo))
    check = harness.run_vigie(env, "check", timeout=30)
    assert "Traceback" not in check.stderr
    assert flat(f"Le fichier de réglages du prestataire est ignoré\u00a0: «\u00a0{fifo}\u00a0» n’est pas un "
                "fichier ordinaire.") in flat(check.stdout)
    report = json.loads(harness.run_vigie(env, "check", "--json", timeout=30).stdout)
    assert [p["code"] for p in report["config"]["problems"]] == ["policy_untrusted"]
    assert f"policy file ignored: {fifo}: prw-r--r--" in harness.vigie_log(env)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # left as it was


def test_the_agent_starts_with_a_fifo_at_the_policy_path(desktop_env, start_agent, policy_dir):
    """Issue 15, point 8: `vigie run` hung too (no icon, no lock), reading the policy at start."""
    fifo = policy_dir / "policy.toml"
    os.mkfifo(fifo, 0o644)
    proc, env = start_agent(dict(desktop_env, VIGIE_POLICY=str(fifo)))  # waits for the icon
    assert proc.poll() is None
    assert f"policy file ignored: {fifo}" in harness.vigie_log(env)


# What a policy that anyone could write would do: no idle lock, no USB warning, a locker that locks nothing.
HOSTILE = '[idle_lock]\nenabled = false\n[usb_storage]\nenabled = false\n[lock]\nlocker_command = "true"\n'
NORMAL_USER = 4242  # no account has this uid here: a file "of a normal user"

WEAKNESSES = {  # name: (what is done to the folder or the file, which of them is blamed)
    "file writable by everyone": (lambda folder, file: file.chmod(0o666), "file"),
    "file writable by its group": (lambda folder, file: file.chmod(0o664), "file"),
    "file of a normal user": (lambda folder, file: os.chown(file, NORMAL_USER, NORMAL_USER), "file"),
    "folder writable by everyone": (lambda folder, file: folder.chmod(0o777), "folder"),
    "sticky folder, as /tmp": (lambda folder, file: folder.chmod(0o1777), "folder"),
    "folder of a normal user": (lambda folder, file: os.chown(folder, NORMAL_USER, NORMAL_USER), "folder"),
    "a folder higher up writable by everyone": (lambda folder, file: folder.parent.chmod(0o777), "parent"),
}


@pytest.mark.parametrize("weakness", WEAKNESSES)
def test_a_policy_another_account_could_write_is_ignored_and_why_is_said(keyring_env, policy_dir, weakness):
    """Issue 15, point 14: such a policy was fully trusted; it could turn the idle lock and the USB
    warnings off and make `true` the screen locker. Now only a file that root alone can write, in
    folders that root alone can write, is read."""
    folder = policy_dir / "vigie"
    folder.mkdir(mode=0o755)
    path = folder / "policy.toml"
    path.write_text(HOSTILE, encoding="utf-8")
    path.chmod(0o644)
    weaken, blamed = WEAKNESSES[weakness]
    weaken(folder, path)
    blamed_path = {"file": path, "folder": folder, "parent": folder.parent}[blamed]
    env = dict(keyring_env, VIGIE_POLICY=str(path))

    config = exported(env)
    assert config["locked"] == []
    assert config["config"]["idle_lock"]["enabled"] is True and config["config"]["usb_storage"]["enabled"] is True
    assert config["config"]["lock"]["locker_command"] == ""

    message = (f"Le fichier de réglages du prestataire est ignoré\u00a0: «\u00a0{blamed_path}\u00a0» peut être "
               "modifié par un autre compte qu’un administrateur.")
    assert flat(message) in flat(harness.run_vigie(env, "check").stdout)
    report = json.loads(harness.run_vigie(env, "check", "--json").stdout)
    assert [(p["code"], p["message"]) for p in report["config"]["problems"]] == [("policy_untrusted", message)]
    assert f"policy file ignored: {blamed_path}: owner uid " in harness.vigie_log(env)


def test_a_policy_in_root_only_folders_is_trusted(with_policy):
    """The other side of point 14: root's file in root's 0755 folders is read (the deployed case)."""
    env = with_policy(HOSTILE)
    config = exported(env)
    assert config["config"]["lock"]["locker_command"] == "true" and "lock.locker_command" in config["locked"]
    assert not [p for p in config["problems"] if p["code"] == "policy_untrusted"]


# Windows (issue 15, point 14). Only platform.windows.file_security, the OS call that reads an owner
# and an access list, cannot run here: these are the entries it returns (winnt.h values) for the folder
# as Setup leaves it (installer/windows/vigie.iss: icacls /inheritance:r, SYSTEM and Administrators full
# control, Users read and execute), for the file inside, and for what can go wrong.
SY, BA, BU, CO, EVERYONE = "S-1-5-18", "S-1-5-32-544", "S-1-5-32-545", "S-1-3-0", "S-1-1-0"
A_USER = "S-1-5-21-1004336348-1177238915-682003330-1001"
ALLOW, DENY, ALLOW_OBJECT = 0, 1, 5  # ACCESS_ALLOWED_ACE_TYPE, ACCESS_DENIED_ACE_TYPE, ..._OBJECT_ACE_TYPE
OI, CI, IO, INHERITED = 0x01, 0x02, 0x08, 0x10  # OBJECT_INHERIT, CONTAINER_INHERIT, INHERIT_ONLY, INHERITED_ACE
FULL, READ_EXECUTE, GENERIC_ALL, WRITE_DAC = 0x1F01FF, 0x1200A9, 0x10000000, 0x40000
AS_SETUP_LEAVES_IT = [(ALLOW, OI | CI, FULL, SY), (ALLOW, OI | CI, FULL, BA), (ALLOW, OI | CI, READ_EXECUTE, BU)]
FILE_INSIDE = [(ALLOW, INHERITED, FULL, SY), (ALLOW, INHERITED, FULL, BA), (ALLOW, INHERITED, READ_EXECUTE, BU)]


def test_windows_only_system_and_administrators_may_change_the_policy():
    from vigie.config.policy_file import windows_write_problem as problem

    assert problem(BA, AS_SETUP_LEAVES_IT) is None and problem(SY, FILE_INSIDE) is None
    # Not protected by Setup, the folder keeps what ProgramData passes down: Users may add files in it
    # (0x116: add file, add subfolder, write extended attributes and attributes).
    assert problem(BA, [*AS_SETUP_LEAVES_IT, (ALLOW, CI | INHERITED, 0x116, BU)]) == (
        f"{BU} may change it (rights 0x116)")
    assert problem(A_USER, AS_SETUP_LEAVES_IT) == f"owned by {A_USER}"  # made beforehand by a user
    assert problem(BA, None) == "no access list: everyone has full control"  # a NULL DACL
    assert problem(BA, [*AS_SETUP_LEAVES_IT, (ALLOW, 0, WRITE_DAC, EVERYONE)]) is not None
    assert problem(BA, [*AS_SETUP_LEAVES_IT, (ALLOW, 0, GENERIC_ALL, A_USER)]) is not None
    assert problem(BA, [(ALLOW_OBJECT, 0, FULL, "")]) == "an entry of type 5 may change it (rights 0x1f01ff)"
    # What does not let anyone else write: an entry for what is created inside only, a denial, reading.
    assert problem(BA, [*AS_SETUP_LEAVES_IT, (ALLOW, OI | CI | IO, FULL, CO), (DENY, 0, FULL, EVERYONE),
                        (ALLOW, 0, READ_EXECUTE, EVERYONE)]) is None


def test_windows_reading_checks_the_folder_then_the_file(tmp_path):
    from vigie.config import policy_file

    folder = tmp_path / "Vigie"
    folder.mkdir()
    path = folder / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    asked = []

    def as_deployed(place: str):
        asked.append(place)
        return BA, AS_SETUP_LEAVES_IT if place == str(folder) else FILE_INSIDE

    assert policy_file.read_windows(path, policy.MAX_POLICY_BYTES, as_deployed) == POLICY.encode()
    assert asked == [str(folder), str(path)]

    def folder_of_a_user(place: str):
        return (A_USER, AS_SETUP_LEAVES_IT) if place == str(folder) else (BA, FILE_INSIDE)

    with pytest.raises(policy_file.PolicyRefused) as refused:
        policy_file.read_windows(path, policy.MAX_POLICY_BYTES, folder_of_a_user)
    assert refused.value.reason == policy_file.untrusted(folder)
    assert refused.value.log_detail == f"{folder}: owned by {A_USER}"

    (folder / "folder.toml").mkdir()
    with pytest.raises(policy_file.PolicyRefused) as refused:
        policy_file.read_windows(folder / "folder.toml", policy.MAX_POLICY_BYTES, as_deployed)
    assert refused.value.reason == policy_file.not_a_file(folder / "folder.toml")
    assert policy_file.read_windows(folder / "absent.toml", policy.MAX_POLICY_BYTES, as_deployed) is None


def test_a_changed_policy_is_applied_again_over_the_users_settings_without_the_keyring(with_policy, policy_dir):
    """What the running agent does when only the policy file changed (vigie.settings_watch): the export's
    user settings under the new file; a lock the IT provider removes gives the user's own value back."""
    env = with_policy(POLICY)
    harness.secret_store(env, "idle_lock", json.dumps({"schema_version": 1, "data": {"lock_after_seconds": 900}}))
    from vigie.config.store import LoadedConfig, policy_again

    before = LoadedConfig.from_json(harness.run_vigie(env, "config", "export").stdout)
    assert before.config.idle_lock.lock_after_seconds == 180 and before.user_config.idle_lock.lock_after_seconds == 900
    (policy_dir / "policy.toml").write_text('[idle_lock]\nremind_after_seconds = 60\n[contacts]\nbogus = 1\n')
    after = policy_again(before, policy_dir / "policy.toml")
    assert after.config.idle_lock.lock_after_seconds == 900  # the user's own value, under no lock now
    assert after.config.idle_lock.remind_after_seconds == 60 and after.locked == {"idle_lock.remind_after_seconds"}
    assert after.config.contacts.it_provider_name == ""  # the old file's values went with it
    assert [p.code for p in after.problems] == ["policy_invalid"]  # the new file's, not the old one's
    assert after.stored_sections == before.stored_sections and after.user_config == before.user_config
    assert before.config.idle_lock.lock_after_seconds == 180  # the settings in force were not touched
    (policy_dir / "policy.toml").write_text(POLICY)
    assert policy_again(after, policy_dir / "policy.toml").config == before.config  # and back again
    assert exported(env)["config"] == json.loads(before.to_json())["config"]  # what a full read finds too
