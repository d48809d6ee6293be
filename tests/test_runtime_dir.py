"""The runtime folder (single-instance lock, status snapshot) when another account got there first.

Issue 15, point 16: with XDG_RUNTIME_DIR unset, platformdirs falls back to $TMPDIR/runtime-UID; another
local account can create that folder beforehand, and `vigie run` then stopped on a PermissionError
traceback. Vigie must neither crash nor use that folder: it uses a private folder of its own instead.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

import harness
from vigie import paths

OTHER_ACCOUNT = 4242  # no account has this uid here: "another local account"
USER = 4243  # a second unused uid, for running as an ordinary user


def hostile_runtime_folder(temp: Path, uid: int) -> Path:
    """$TMPDIR/runtime-UID as another account leaves it: its own, open to all."""
    folder = temp / f"runtime-{uid}"
    folder.mkdir()
    os.chown(folder, OTHER_ACCOUNT, OTHER_ACCOUNT)
    folder.chmod(0o777)
    return folder


def untouched(folder: Path) -> bool:
    info = folder.lstat()
    return info.st_uid == OTHER_ACCOUNT and stat.S_IMODE(info.st_mode) == 0o777 and not list(folder.iterdir())


@pytest.fixture
def root_only():
    if os.geteuid() != 0:
        pytest.skip("making a folder another account's needs root (CI runs as root)")


@pytest.mark.usefixtures("root_only")
def test_the_agent_starts_in_a_private_folder_of_its_own(desktop_env, start_agent, tmp_path):
    assert not Path(f"/run/user/{os.geteuid()}").exists()  # else platformdirs would not fall back to TMPDIR
    temp = tmp_path / "tmp"
    temp.mkdir()
    hostile = hostile_runtime_folder(temp, os.geteuid())
    env = {key: value for key, value in desktop_env.items() if key != "XDG_RUNTIME_DIR"}
    proc, env = start_agent(dict(env, TMPDIR=str(temp)))  # waits for the icon

    own = Path(env["XDG_CACHE_HOME"]) / "Vigie" / "runtime"
    harness.wait_for(lambda: (own / "status.json").exists(), what="the status snapshot")
    assert (own / "agent.lock").exists() and proc.poll() is None
    info = own.lstat()
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700
    assert untouched(hostile)
    log = harness.vigie_log(env)
    refused = f"runtime folder refused (PermissionError: runtime directory {hostile} is owned by uid {OTHER_ACCOUNT}"
    assert refused in log
    assert f"Vigie uses {own}" in log and "Traceback" not in log
    # A second agent sees the first one's lock there.
    second = harness.run_vigie(env, "run", timeout=60)
    assert second.returncode == 0 and "Vigie est déjà lancé" in second.stdout, second.stdout + second.stderr


SINGLE_INSTANCE = """
from vigie.logs import setup_logging
from vigie.instance import acquire_single_instance
setup_logging()
print(acquire_single_instance().lock.lock_file)
"""


def system_python() -> str:
    """This Python's version, installed for every account (the venv's may live under /root)."""
    python = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    assert python.exists(), f"{python} is needed to run Vigie as an ordinary user"
    return str(python)


@pytest.mark.usefixtures("root_only")
def test_an_ordinary_user_is_not_stopped_by_another_accounts_folder():
    """The reported crash itself, as an ordinary user (root could chmod the folder, a user cannot)."""
    base = Path(tempfile.mkdtemp(prefix="vigie-runtime-test-"))  # under /tmp: the user must reach it
    try:
        home, temp = base / "home", base / "tmp"
        for folder in (home, temp):
            folder.mkdir()
            os.chown(folder, USER, USER)
        os.chown(base, USER, USER)
        hostile = hostile_runtime_folder(temp, USER)
        env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
        env.update(HOME=str(home), TMPDIR=str(temp), PYTHONDONTWRITEBYTECODE="1",
                   PYTHONPATH=os.pathsep.join([str(Path(paths.__file__).parents[1]), sysconfig.get_paths()["purelib"]]))
        result = subprocess.run([system_python(), "-c", SINGLE_INSTANCE], env=env, user=USER, group=USER,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        own = home / ".cache" / "Vigie" / "runtime"
        assert result.stdout.strip() == str(own / "agent.lock")
        assert own.lstat().st_uid == USER and stat.S_IMODE(own.lstat().st_mode) == 0o700
        assert untouched(hostile)
        assert "runtime folder refused" in (home / ".local/state/Vigie/log/vigie.log").read_text()
    finally:
        shutil.rmtree(base)


@pytest.mark.usefixtures("root_only")
def test_when_the_cache_folder_is_not_its_own_either_a_fresh_private_folder_is_used(
        tmp_path, monkeypatch, caplog):
    temp, cache = tmp_path / "tmp", tmp_path / "cache"
    temp.mkdir()
    hostile_runtime_folder(temp, os.geteuid())
    taken = cache / "Vigie" / "runtime"
    taken.mkdir(parents=True)
    os.chown(taken, OTHER_ACCOUNT, OTHER_ACCOUNT)
    taken.chmod(0o777)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile reads TMPDIR again
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(paths, "_last_resort", [])
    folder = paths.runtime_dir()
    assert paths.runtime_dir() == folder  # one folder for the whole run
    info = folder.lstat()
    assert folder.parent == temp and folder.name.startswith("vigie-runtime-")
    assert info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700
    assert f"{taken} belongs to uid {OTHER_ACCOUNT}" in caplog.text and "for this run only" in caplog.text
    assert taken.lstat().st_uid == OTHER_ACCOUNT and stat.S_IMODE(taken.lstat().st_mode) == 0o777
