"""restic and borg that hang (issue 15, point 9), with a stand-in `restic` / `borg` put first on PATH:
a test double for a tool that hangs (a real one only hangs on a dead NAS or a stuck disk, which a test
cannot summon). It records its pid, which is its process group (Vigie starts it in a session of its
own), starts a grandchild that ignores SIGTERM, and waits. The group's survivors are looked for in
/proc. The repositories added with `vigie backup add-repo` are real ones, made by real restic and borg.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import harness
from vigie.config.schema import BackupRepository
from vigie.features.backup import drill, repositories
from vigie.i18n import render, translator
from vigie.platform.base import PlatformError, ToolTimeout

FR = translator("fr")
PASSWORD = "mot de passe «cabinet» ü"
STAND_IN = """#!/bin/sh
# Test double for a hung {tool} (see the module docstring).
echo $$ >> {starts}
sh -c 'trap "" TERM; exec sleep 300' &
exec sleep 300
"""


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """This process (and the tools and `vigie backup password` it starts) in the test's session."""
    for key in set(os.environ) - set(env):
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def run(argv: list[str], env: dict[str, str]) -> None:
    subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=True)


def init_repository(kind: str, repo: Path, env: dict[str, str]) -> None:
    if kind == "restic":
        run(["restic", "init", "-q", "-r", str(repo)], dict(env, RESTIC_PASSWORD=PASSWORD))
    else:
        run(["borg", "init", "-e", "repokey", str(repo)], dict(env, BORG_PASSPHRASE=PASSWORD))


def group_alive(pgid: int) -> list[int]:
    """Processes of group pgid still running (a zombie has ended: it only waits to be reaped)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            alive.append(int(entry.name))
    return alive


class StandIn:
    """The hung tool's traces: one line per start, its pid = its process group."""

    def __init__(self, tmp_path: Path, tool: str) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir(exist_ok=True)
        self.starts_file = tmp_path / f"{tool}-starts"
        script = self.bin / tool
        script.write_text(STAND_IN.format(tool=tool, starts=self.starts_file))
        script.chmod(0o755)

    @property
    def path(self) -> str:
        return f"{self.bin}:{os.environ['PATH']}"

    def starts(self) -> list[int]:
        text = self.starts_file.read_text() if self.starts_file.exists() else ""
        return [int(line) for line in text.split()]

    def hanging(self) -> int:
        """Wait until it started and its grandchild too; its group."""
        pgid = harness.wait_for(lambda: self.starts() and self.starts()[0], what="the stand-in to start")
        harness.wait_for(lambda: len(group_alive(pgid)) == 2, what="its grandchild")
        return pgid

    def assert_all_ended(self, within: float = 1.0) -> None:
        """No process of any group it started is running, `within` seconds after Vigie let go (the
        stand-in's processes would sleep 300 s)."""
        for pgid in self.starts():
            harness.wait_for(lambda pgid=pgid: not group_alive(pgid), timeout=within,
                             what=f"group {pgid} to be gone: {group_alive(pgid)} still running")


@pytest.fixture
def make_stand_in(tmp_path: Path) -> Iterator[Callable[[str], StandIn]]:
    """Factory of stand-ins; a test that fails leaves no sleeping process behind."""
    made: list[StandIn] = []

    def make(tool: str) -> StandIn:
        made.append(StandIn(tmp_path, tool))
        return made[-1]

    yield make
    for leftover in made:
        for pgid in leftover.starts():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)


def test_a_timeout_ends_the_tool_and_its_grandchild(make_stand_in, tmp_path, home_env, monkeypatch):
    stand_in = make_stand_in("restic")
    use_env(monkeypatch, dict(home_env, PATH=stand_in.path))
    (tmp_path / "depot").mkdir()
    started = time.monotonic()
    with pytest.raises(ToolTimeout):
        repositories.newest_snapshot(BackupRepository("restic", "cabinet", str(tmp_path / "depot")), 1)
    assert time.monotonic() - started < 1 + 2 + 1  # the timeout, the grace for the SIGTERM, a margin
    assert len(stand_in.starts()) == 1
    stand_in.assert_all_ended()


def test_two_requests_on_one_repository_start_one_tool(make_stand_in, tmp_path, home_env, monkeypatch):
    stand_in = make_stand_in("borg")
    use_env(monkeypatch, dict(home_env, PATH=stand_in.path))
    (tmp_path / "depot").mkdir()
    repository = BackupRepository("borg", "cabinet", str(tmp_path / "depot"))
    first: list[BaseException] = []

    def check() -> None:
        try:
            repositories.newest_snapshot(repository, 6)
        except Exception as exc:  # looked at below
            first.append(exc)

    checking = threading.Thread(target=check)
    checking.start()
    stand_in.hanging()
    same_place = BackupRepository("borg", "autre-nom", str(tmp_path / "depot"))  # another name, same repository
    with pytest.raises(PlatformError) as busy:
        repositories.newest_snapshot(same_place, 1)
    assert len(stand_in.starts()) == 1  # the second request waited and started nothing
    assert render(busy.value.reason, FR) == "une vérification de ce dépôt est déjà en cours"
    tested = drill.run_drill(drill.RepositoryDrill(same_place, 1), 3)  # « Tester ma sauvegarde » meanwhile
    assert len(stand_in.starts()) == 1
    assert tested.outcome == drill.Outcome.NOT_DONE
    assert render(tested.reason, FR) == "une vérification de ce dépôt est déjà en cours"
    checking.join(12)
    assert isinstance(first[0], ToolTimeout)
    stand_in.assert_all_ended()


def vigie(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([*harness.vigie_argv(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def add_repository(env: dict[str, str], kind: str, repo: Path) -> None:
    """With the real tool, on a real repository (so `add-repo` succeeds)."""
    init_repository(kind, repo, env)
    added = subprocess.run([*harness.vigie_argv(), "backup", "add-repo", kind, str(repo), "--name", "cabinet",
                            "--password-stdin"], env=env, input=PASSWORD + "\n", capture_output=True, text=True,
                           timeout=120)
    assert added.returncode == 0, added.stderr


def test_vigie_check_leaves_no_tool_behind_on_timeout_or_sigterm(make_stand_in, keyring_env, tmp_path):
    add_repository(keyring_env, "restic", tmp_path / "depot")
    assert harness.run_vigie(keyring_env, "config", "set", "backup_age.timeout_seconds", "10").returncode == 0
    assert harness.run_vigie(keyring_env, "config", "set", "os_updates.enabled", "false").returncode == 0  # slow
    stand_in = make_stand_in("restic")
    env = dict(keyring_env, PATH=stand_in.path)

    timed_out = vigie(env, "check", "--json")
    stand_in.hanging()
    out, err = timed_out.communicate(timeout=10 + 2 + 30)
    assert '"id": "backup_age"' in out, err
    stand_in.assert_all_ended()

    stand_in.starts_file.unlink()
    killed = vigie(env, "check", "--json")  # as an RMM's time limit or `timeout` ends it
    stand_in.hanging()
    killed.send_signal(signal.SIGTERM)
    killed.wait(2 + 3)
    stand_in.assert_all_ended()
    assert killed.returncode == 128 + signal.SIGTERM  # it unwound (and said so), not killed outright


def test_the_agent_runs_one_tool_per_repository_and_ends_it_when_stopped(make_stand_in, desktop_env, start_agent,
                                                                         tmp_path):
    """The backup check's `borg list` hangs; « Tester ma sauvegarde » waits for the repository instead
    of starting a second one; SIGTERM to the agent ends the hung one, grandchild included."""
    add_repository(desktop_env, "borg", tmp_path / "depot")
    stand_in = make_stand_in("borg")
    proc, env = start_agent(desktop_env, PATH=stand_in.path)
    stand_in.hanging()
    assert harness.sni_menu(env, "click", "Tester ma sauvegarde").returncode == 0
    harness.wait_for(lambda: "backup: cabinet is in use; waiting" in harness.vigie_log(env)
                     or len(stand_in.starts()) > 1, what="the drill to wait for the repository, or start borg")
    assert len(stand_in.starts()) == 1
    proc.send_signal(signal.SIGTERM)
    proc.wait(15)
    stand_in.assert_all_ended()
    assert len(stand_in.starts()) == 1  # nothing started while quitting
    assert "stopping 1 running program(s)" in harness.vigie_log(env)


def test_ctrl_c_in_a_command_ends_the_tool(make_stand_in, tmp_path, home_env):
    """Ctrl-C reaches Vigie, not the tool in its own session: Vigie must end the tool's group."""
    stand_in = make_stand_in("restic")
    (tmp_path / "depot").mkdir()
    # Ctrl-C as in a terminal: Python's KeyboardInterrupt handler, whatever this run inherited (a shell's
    # background job starts with SIGINT ignored, and Python then leaves it ignored: the child never heard it).
    code = ("import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "from vigie.config.schema import BackupRepository\nfrom vigie.features.backup import repositories\n"
            f"repositories.newest_snapshot(BackupRepository('restic', 'cabinet', {str(tmp_path / 'depot')!r}), 60)")
    child = subprocess.Popen([sys.executable, "-c", code], env=dict(home_env, PATH=stand_in.path),
                             stderr=subprocess.PIPE, text=True)
    stand_in.hanging()
    child.send_signal(signal.SIGINT)
    try:
        _, err = child.communicate(timeout=2 + 3)
    except subprocess.TimeoutExpired:  # say who was still there
        pytest.fail(f"5 s after Ctrl-C: child {'alive' if child.poll() is None else f'exited {child.returncode}'}; "
                    f"holding its stderr: {holders_of(child.stderr.fileno())}; "
                    f"the tool's groups: {[(g, group_alive(g)) for g in stand_in.starts()]}")
    assert "KeyboardInterrupt" in err
    stand_in.assert_all_ended()


def holders_of(fd: int) -> list[str]:
    """The processes that have this process's pipe `fd` open (its other end included), with their command."""
    pipe = os.readlink(f"/proc/self/fd/{fd}")
    holders = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if any(os.readlink(link) == pipe for link in (entry / "fd").iterdir()):
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")[:120]
                    holders.append(f"{entry.name} {command!r}")
    return holders
