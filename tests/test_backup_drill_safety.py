"""The restore drill facing what a backup may hold besides documents (issue 15, points 6 and 10), on
real parts: a loop-mounted ext4 drive, a real tmpfs (mount -t tmpfs) as the drill's temporary folder,
real links to /dev/zero, real device nodes (mknod c 1 5), FIFOs and sockets, real restic and borg
repositories holding them, and a file name that is not valid UTF-8.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import harness
from test_backup import NOW, PASSWORD, add_repo, folder_drill, folder_entry, make_tree, run
from vigie.features.backup import destination, drill
from vigie.i18n import render, translator

FR = translator("fr")
MiB = 1024 * 1024
OLD = NOW - timedelta(days=10)


class Tmpfs:
    """A real tmpfs of a fixed size, mounted for one test."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True)

    def used(self) -> int:
        stat = os.statvfs(self.path)
        return (stat.f_blocks - stat.f_bfree) * stat.f_frsize

    def umount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def tmpfs(tmp_path) -> Iterator:
    if os.geteuid() != 0:
        pytest.skip("mounts and device nodes need root (CI runs as root)")
    mounted: list[Tmpfs] = []

    def mount(path: Path, size: str = "64m") -> Tmpfs:
        mounted.append(Tmpfs(path, size))
        return mounted[-1]

    yield mount
    for each in mounted:
        each.umount()


def make_specials(folder: Path, names: dict[str, str]) -> list[socket.socket]:
    """Put a link to /dev/zero, a /dev/zero device node, a FIFO or a socket under each name (kind → name)."""
    held = []
    for kind, name in names.items():
        path = folder / name
        path.unlink(missing_ok=True)
        if kind == "zero_link":
            path.symlink_to("/dev/zero")
        elif kind == "device":
            subprocess.run(["mknod", str(path), "c", "1", "5"], check=True)  # what /dev/zero is
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(str(path))
            held.append(server)
    return held


@contextlib.contextmanager
def watching_usage(space: Tmpfs) -> Iterator[list[int]]:
    """Sample the tmpfs usage every 10 ms while the block runs: the peak shows a copy being filled."""
    samples, done = [space.used()], threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            samples.append(space.used())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield samples
    finally:
        done.set()
        sampler.join()
        samples.append(space.used())


# --- point 6: links and special files in a backup folder ------------------------------------------------

def test_links_and_special_files_in_a_backup_folder_are_never_read(tmp_path, make_stick, tmpfs):
    """Before: the link to /dev/zero and the device node were read into the drill's folder until the
    disk was full (64 MiB of tmpfs in under a second; 52 GB on a real disk), and the drill ended
    « not done » instead of saying what is wrong with the backup."""
    originals = tmp_path / "Documents"
    files = {f"{name}.pdf": os.urandom(5000) for name in ("lien", "peripherique", "tube", "prise", "enflé", "sain")}
    make_tree(originals, {**files, "patients/a.pdf": b"a" * 3000, "patients/b.pdf": b"b" * 3000}, OLD)
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    subprocess.run(["cp", "-a", f"{originals}/.", str(stick.mount_point)], check=True)
    backup = stick.mount_point
    held = make_specials(backup, {"zero_link": "lien.pdf", "device": "peripherique.pdf", "fifo": "tube.pdf",
                                  "socket": "prise.pdf"})
    with open(backup / "enflé.pdf", "r+b") as swollen:  # a regular file, 300 MiB (sparse on the drive)
        swollen.truncate(300 * MiB)
    os.utime(backup / "enflé.pdf", (OLD.timestamp(), OLD.timestamp()))
    subprocess.run(["rm", "-r", str(backup / "patients")], check=True)
    (backup / "patients").symlink_to(originals / "patients")  # a "copy" that is a link to the originals
    marker = destination.enroll(backup, NOW)
    destination.mark(backup, NOW)
    space = tmpfs(tmp_path / "drill-tmpfs", "64m")
    try:
        with watching_usage(space) as usage:
            result = drill.run_drill(folder_drill(folder_entry(backup, marker, originals)), 50, random.Random(1),
                                     work_root=space.path)
    finally:
        for server in held:
            server.close()
    assert result.outcome == drill.Outcome.FAILED
    assert sorted((p.name, p.problem) for p in result.problems) == [
        ("a.pdf", "not_a_file"), ("b.pdf", "not_a_file"), ("enflé.pdf", "different"), ("lien.pdf", "not_a_file"),
        ("peripherique.pdf", "not_a_file"), ("prise.pdf", "not_a_file"), ("tube.pdf", "not_a_file")]
    assert [name for name, _ in result.checked] == ["sain.pdf"]
    assert max(usage) < MiB and usage[-1] == usage[0]  # nothing filled, nothing left
    detail = render(drill_problem(result, "lien.pdf"), FR)
    assert detail == ("lien.pdf\u00a0: la sauvegarde contient un raccourci ou un fichier spécial à sa place, "
                      "pas une copie")


def drill_problem(result: drill.DrillResult, name: str):
    from vigie.features.backup.restore_drill import problem_text

    problem = next(p for p in result.problems if p.name == name)
    return problem_text(problem.problem, problem.name)


def test_a_backup_folder_without_originals_reads_back_regular_files_only(tmp_path, make_stick, tmpfs):
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    make_tree(stick.mount_point, {"a.pdf": b"a" * 4000, "b.pdf": b"b" * 4000, "dossier/c.pdf": b"c" * 4000}, OLD)
    held = make_specials(stick.mount_point, {"zero_link": "lien.pdf", "device": "peripherique.pdf",
                                             "fifo": "tube.pdf", "socket": "prise.pdf"})
    (stick.mount_point / "ailleurs").symlink_to(tmp_path)  # a folder link leading out of the backup
    (tmp_path / "hors-sauvegarde.pdf").write_bytes(b"x")
    marker = destination.enroll(stick.mount_point, NOW)
    space = tmpfs(tmp_path / "drill-tmpfs", "64m")
    try:
        with watching_usage(space) as usage:
            result = drill.run_drill(folder_drill(folder_entry(stick.mount_point, marker)), 50, random.Random(2),
                                     work_root=space.path)
    finally:
        for server in held:
            server.close()
    assert result.outcome == drill.Outcome.READABLE and not result.problems
    assert sorted(name for name, _ in result.checked) == ["a.pdf", "b.pdf", "c.pdf"]
    assert max(usage) < MiB and usage[-1] == usage[0]


def test_free_space_is_checked_before_anything_is_restored(tmp_path, make_stick, tmpfs):
    """Before: the copies were written until the disk was full, then the drill gave up."""
    originals = tmp_path / "Documents"
    make_tree(originals, {f"scan {i}.pdf": os.urandom(MiB + i) for i in range(4)}, OLD)
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    subprocess.run(["cp", "-a", f"{originals}/.", str(stick.mount_point)], check=True)
    marker = destination.enroll(stick.mount_point, NOW)
    destination.mark(stick.mount_point, NOW)
    space = tmpfs(tmp_path / "drill-tmpfs", "4m")
    copied = []
    result = drill.run_drill(folder_drill(folder_entry(stick.mount_point, marker, originals)), 4, random.Random(3),
                             copied.append, work_root=space.path)
    assert result.outcome == drill.Outcome.NOT_DONE and not result.problems
    assert render(result.reason, FR) == "cet ordinateur n’a pas assez de place libre pour le test"
    assert copied == [] and list(space.path.iterdir()) == []


def test_one_drill_restores_a_bounded_total(tmp_path, make_stick, monkeypatch):
    originals = tmp_path / "Documents"
    make_tree(originals, {f"dossier {i}.pdf": os.urandom(40_000) for i in range(10)}, OLD)
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    subprocess.run(["cp", "-a", f"{originals}/.", str(stick.mount_point)], check=True)
    marker = destination.enroll(stick.mount_point, NOW)
    destination.mark(stick.mount_point, NOW)
    monkeypatch.setattr(drill, "MAX_TOTAL_BYTES", 100_000)  # the real one is 512 MiB: too big for a test drive
    result = drill.run_drill(folder_drill(folder_entry(stick.mount_point, marker, originals)), 10, random.Random(4),
                             work_root=tmp_path / "w")
    assert result.outcome == drill.Outcome.PASSED and len(result.checked) == 2  # 2 × 40 kB fit in 100 kB, not 3


def test_a_stopped_drill_removes_its_copies_at_once(tmp_path, make_stick):
    originals = tmp_path / "Documents"
    make_tree(originals, {f"dossier {i}.pdf": os.urandom(300_000) for i in range(6)}, OLD)
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    subprocess.run(["cp", "-a", f"{originals}/.", str(stick.mount_point)], check=True)
    marker = destination.enroll(stick.mount_point, NOW)
    destination.mark(stick.mount_point, NOW)
    work, cancel, seen = tmp_path / "w", threading.Event(), []

    def stop_at_the_third_file(index: int) -> None:
        if index == 2:
            seen.extend(work.rglob("*.pdf"))  # two copies made so far
            cancel.set()

    result = drill.run_drill(folder_drill(folder_entry(stick.mount_point, marker, originals)), 6, random.Random(5),
                             stop_at_the_third_file, work_root=work, cancel=cancel)
    assert len(seen) == 2 and result.outcome == drill.Outcome.NOT_DONE
    assert render(result.reason, FR) == "le test a été arrêté car Vigie se fermait"
    assert list(work.iterdir()) == []


# --- point 6: restic and borg repositories holding links and special files ------------------------------------

def repository_with_specials(kind: str, tmp_path: Path, env: dict[str, str]) -> tuple[Path, Path]:
    documents = tmp_path / "Documents"
    make_tree(documents, {f"dossier {i}.pdf": os.urandom(20_000 + i) for i in range(5)}, NOW - timedelta(days=5))
    held = make_specials(documents, {"zero_link": "lien.pdf", "device": "peripherique.pdf", "fifo": "tube.pdf",
                                     "socket": "prise.pdf"})
    repo = tmp_path / f"{kind}-repo"
    try:
        if kind == "restic":
            tool_env = dict(env, RESTIC_PASSWORD=PASSWORD)
            run(["restic", "init", "-q", "-r", str(repo)], tool_env)
            run(["restic", "backup", "-q", "-r", str(repo), str(documents)], tool_env)
            listed = run(["restic", "ls", "--json", "-r", str(repo), "latest"], tool_env).stdout
            types = {json.loads(line).get("name"): json.loads(line).get("type") for line in listed.splitlines()}
        else:
            tool_env = dict(env, BORG_PASSPHRASE=PASSWORD)
            run(["borg", "init", "-e", "repokey", str(repo)], tool_env)
            run(["borg", "create", f"{repo}::cabinet-1", str(documents)], tool_env)
            listed = run(["borg", "list", "--json-lines", f"{repo}::cabinet-1"], tool_env).stdout
            types = {Path(json.loads(line)["path"]).name: json.loads(line)["type"] for line in listed.splitlines()}
    finally:
        for server in held:
            server.close()
    # The repository really holds them (restic leaves sockets out).
    assert {types.get("lien.pdf"), types.get("peripherique.pdf"), types.get("tube.pdf")} in (
        {"symlink", "chardev", "fifo"}, {"l", "c", "p"})
    return repo, documents


@pytest.mark.parametrize("kind", ["restic", "borg"])
def test_a_repository_holding_links_and_special_files_restores_documents_only(kind, keyring_env, tmp_path, tmpfs):
    """restic and borg restore into the drill's private folder, here a 64 MiB tmpfs; what they wrote is
    checked with lstat before anything is read. (restic ls and borg list already name the type, so the
    drill never asked for these entries: this guards that it never will, and that nothing is filled.)"""
    repo, _ = repository_with_specials(kind, tmp_path, keyring_env)
    assert add_repo(keyring_env, kind, repo, "cabinet").returncode == 0
    space = tmpfs(Path(keyring_env["XDG_CACHE_HOME"]) / "Vigie" / "drill", "64m")
    with watching_usage(space) as usage:
        drilled = harness.run_vigie(keyring_env, "backup", "drill", "--files", "50", timeout=180)
    assert drilled.returncode == 0, drilled.stdout + drilled.stderr
    assert "Réussi\u00a0: 5 fichiers restaurés et identiques." in drilled.stdout
    assert max(usage) < 2 * MiB and usage[-1] == usage[0] and list(space.path.iterdir()) == []


# --- point 6: the agent quitting during a drill -----------------------------------------------------------------

@pytest.mark.parametrize(("kind", "restoring"), [("restic", "restore"), ("borg", "extract")])
def test_sigterm_during_a_drill_kills_the_tool_and_removes_the_copies(kind, restoring, desktop_env, start_agent,
                                                                      tmp_path):
    """Before: the agent ended with restic (or borg) still restoring into ~/.cache/Vigie/drill, and the
    copies stayed there until the next start. The tool is paused (SIGSTOP) by the test while it
    restores, so the agent is certainly stopped in the middle of the drill."""
    import psutil

    repo, _ = repository_with_specials(kind, tmp_path, desktop_env)
    assert add_repo(desktop_env, kind, repo, "cabinet").returncode == 0
    proc, env = start_agent(desktop_env)  # the first drill is due at start

    def tool_restoring() -> psutil.Process | None:
        for child in psutil.Process(proc.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if child.name() == kind and restoring in child.cmdline():
                    return child
        return None

    try:
        tool = harness.wait_for(tool_restoring, timeout=60, what=f"{kind} restoring the drill's files")
    except TimeoutError as exc:  # say what the agent did meanwhile (drill not started, or over already)
        raise TimeoutError(f"{exc}\nVigie's log:\n{harness.vigie_log(env)[-3000:]}") from None
    tool.suspend()
    try:
        drill_dir = Path(env["XDG_CACHE_HOME"]) / "Vigie" / "drill"
        assert list(drill_dir.glob("drill-*"))  # the drill's private folder, while it runs
        proc.terminate()
        proc.wait(15)
        assert not psutil.pid_exists(tool.pid) or tool.status() == psutil.STATUS_ZOMBIE
        assert list(drill_dir.glob("drill-*")) == []
    finally:
        with contextlib.suppress(psutil.Error):
            tool.kill()  # only if the agent left it behind: never a paused tool after the test
    assert "drill: stopped at exit, restored copies removed" in harness.vigie_log(env)


# --- point 10: a file name that is not valid UTF-8 -------------------------------------------------------------

ODD_NAME = os.fsdecode(b"facture\xff\xfe.pdf.locked")  # as Python hands it over: with lone surrogates
SHOWN = "facture\\xff\\xfe.pdf.locked"  # as Vigie shows it


def journal_events(env, kind: str) -> list[dict]:
    db = sqlite3.connect(Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3")
    try:
        return [json.loads(data) for (data,) in db.execute("SELECT data FROM events WHERE kind = ? ORDER BY id",
                                                           (kind,))]
    finally:
        db.close()


def odd_named_backup(env, make_stick, tmp_path: Path):
    originals = tmp_path / "Documents"
    make_tree(originals, {ODD_NAME: os.urandom(6000), "ordonnance.pdf": os.urandom(5000)}, OLD)
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    subprocess.run(["cp", "-a", f"{originals}/.", str(stick.mount_point)], check=True)
    assert os.path.exists(os.fsencode(stick.mount_point) + b"/facture\xff\xfe.pdf.locked")  # the real bytes
    enrolled = harness.run_vigie(env, "backup", "enroll", str(stick.mount_point), "--originals", str(originals))
    assert enrolled.returncode == 0, enrolled.stderr
    assert harness.run_vigie(env, "backup", "mark", str(stick.mount_point)).returncode == 0
    return stick


def flip_a_byte(path: Path) -> None:
    data, times = bytearray(path.read_bytes()), path.stat()
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))


def test_a_name_that_is_not_utf8_keeps_its_proof_and_is_shown_readably(keyring_env, make_stick, tmp_path):
    stick = odd_named_backup(keyring_env, make_stick, tmp_path)
    drilled = subprocess.run([*harness.vigie_argv(), "backup", "drill"], env=keyring_env, capture_output=True,
                             timeout=120)
    assert drilled.returncode == 0, drilled.stdout + drilled.stderr
    assert "Réussi\u00a0: 2 fichiers restaurés et identiques.".encode() in drilled.stdout
    proof = journal_events(keyring_env, "restore_drill")[-1]
    assert {os.fsencode(f["name"]) for f in proof["files"]} == {b"facture\xff\xfe.pdf.locked", b"ordonnance.pdf"}
    flip_a_byte(stick.mount_point / ODD_NAME)
    drilled = subprocess.run([*harness.vigie_argv(), "backup", "drill"], env=keyring_env, capture_output=True,
                             timeout=120)
    assert drilled.returncode == 2, drilled.stdout + drilled.stderr
    said = drilled.stdout.decode("utf-8")  # valid UTF-8: the odd bytes are spelt out
    assert f"  - {SHOWN}\u00a0: la copie restaurée diffère de l’original" in said
    proof = journal_events(keyring_env, "restore_drill")[-1]
    assert [(os.fsencode(p["name"]), p["problem"]) for p in proof["problems"]] == [
        (b"facture\xff\xfe.pdf.locked", "different")]
    checked = subprocess.run([*harness.vigie_argv(), "check", "--json"], env=keyring_env, capture_output=True,
                             timeout=120)
    report = json.loads(checked.stdout.decode("utf-8"))
    check = next(c for c in report["checks"] if c["id"] == "restore_drill")
    assert check["severity"] == "critical"
    assert f"{SHOWN}\u00a0: la copie restaurée diffère de l’original" in check["detail"]


def test_the_agent_notifies_a_failed_drill_on_a_name_that_is_not_utf8(desktop_env, start_agent, make_stick,
                                                                        tmp_path):
    stick = odd_named_backup(desktop_env, make_stick, tmp_path)
    flip_a_byte(stick.mount_point / ODD_NAME)
    _, env = start_agent(desktop_env)  # the first drill is due at start

    def alarm() -> list[dict]:
        return [n for n in harness.dunst_history(env) if n["summary"] == "Votre sauvegarde ne se restaure pas "
                "correctement"]

    shown = harness.wait_for(alarm, timeout=60, what="the failed drill's notification")
    # A file name may be a patient's: the notification counts, the status window names (issue 18).
    assert "1\u00a0fichier n’est pas revenu comme il faut" in shown[0]["body"] or \
        "1 fichier n’est pas revenu comme il faut" in shown[0]["body"], shown[0]["body"]
    assert "facture" not in shown[0]["body"]
    proof = journal_events(env, "restore_drill")[-1]
    assert [os.fsencode(p["name"]) for p in proof["problems"]] == [b"facture\xff\xfe.pdf.locked"]
    status = json.loads((Path(env["XDG_RUNTIME_DIR"]) / "Vigie" / "status.json").read_text(encoding="utf-8"))
    drill_status = next(c for c in status["checks"] if c["id"] == "restore_drill")
    assert f"{SHOWN}\u00a0: la copie restaurée diffère de l’original" in drill_status["detail"]
