"""The backup watch's costs (issue 6), on real parts:

- restore drill of 5 files of 1 MB: from an enrolled folder on a loop-mounted ext4 drive, and from a
  restic repository (password asked by restic from the real gnome-keyring, as on a practice PC);
- the backup_age check on a destination holding 100,000 files with no `vigie backup mark`, so the
  bounded scan of modification times runs (target: under 1 s) — and, for scale, the same tree fully
  walked by `find`.

Medians over several runs. Needs root (loop device, mount).

    .venv/bin/python bench/backup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import harness  # noqa: E402 - the same real services as the tests
from vigie.check import CheckContext  # noqa: E402
from vigie.config.schema import BackupAge, BackupFolder, BackupRepository, Config  # noqa: E402
from vigie.events import Tick  # noqa: E402
from vigie.features.backup import destination, drill, sources  # noqa: E402
from vigie.features.backup.backup_age import BackupAgeCheck  # noqa: E402
from vigie.journal import Journal  # noqa: E402
from vigie.platform.base import BackupRecord  # noqa: E402
from vigie.platform.linux import LinuxPlatform  # noqa: E402

PASSWORD = "bench"  # noqa: S105 -- a throw-away repository


class NoSystemBackups(LinuxPlatform):
    def system_backups(self, timeout: float) -> list[BackupRecord]:
        return []


def timed(function, runs: int) -> list[float]:
    function()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def summary(name: str, samples: list[float]) -> None:
    print(f"{name:<44} median {statistics.median(samples):.3f} s  min {min(samples):.3f}  max {max(samples):.3f}"
          f"  (n={len(samples)})")


def make_originals(folder: Path, count: int, size: int) -> None:
    folder.mkdir(parents=True)
    old = time.time() - 86400
    for i in range(count):
        path = folder / f"dossier-{i:03d}.pdf"
        path.write_bytes(os.urandom(size))
        os.utime(path, (old, old))


def loop_drive(workdir: Path) -> tuple[str, Path]:
    image, mount = workdir / "drive.img", workdir / "drive"
    mount.mkdir()
    subprocess.run(["truncate", "-s", "200M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-L", "SAUVEGARDE", str(image)], check=True)
    device = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True,
                            check=True).stdout.strip()
    subprocess.run(["mount", device, str(mount)], check=True)
    return device, mount


def bench_folder_drill(workdir: Path, originals: Path, runs: int) -> None:
    device, mount = loop_drive(workdir)
    try:
        subprocess.run(["cp", "-a", f"{originals}/.", str(mount)], check=True)
        marker = destination.enroll(mount, datetime.now().astimezone())
        entry = BackupFolder(id=marker.id, path=str(mount), originals=str(originals))
        volumes = LinuxPlatform().mounted_volumes()
        source = drill.FolderDrill(entry, sources.locate(entry, volumes), volumes)
        rng = random.Random(0)

        def once() -> None:
            subprocess.run(["sh", "-c", "echo 3 > /proc/sys/vm/drop_caches"], check=False)  # cold reads
            result = drill.run_drill(source, 5, rng, work_root=workdir / "work")
            assert result.outcome == drill.Outcome.PASSED, result

        summary("drill, 5 × 1 MB, folder on a loop ext4 drive", timed(once, runs))
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        subprocess.run(["losetup", "-d", device], check=False)


def bench_restic_drill(workdir: Path, originals: Path, runs: int) -> None:
    services = harness.Services()
    env = harness.isolated_env(workdir / "session")
    try:
        harness.start_bus(services, env)
        harness.start_keyring(services, env)
        repo = workdir / "restic"
        tool_env = dict(env, RESTIC_PASSWORD=PASSWORD)
        subprocess.run(["restic", "init", "-q", "-r", str(repo)], env=tool_env, check=True, capture_output=True)
        subprocess.run(["restic", "backup", "-q", "-r", str(repo), str(originals)], env=tool_env, check=True,
                       capture_output=True)
        added = subprocess.run([*harness.vigie_argv(), "backup", "add-repo", "restic", str(repo), "--name", "bench",
                                "--password-stdin"], env=env, input=PASSWORD + "\n", capture_output=True, text=True)
        assert added.returncode == 0, added.stderr
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)  # restic asks `vigie backup password` on this session's keyring
        try:
            source = drill.RepositoryDrill(BackupRepository(kind="restic", name="bench", repository=str(repo)), 120)
            rng = random.Random(0)

            def once() -> None:
                result = drill.run_drill(source, 5, rng, work_root=workdir / "work")
                assert result.outcome == drill.Outcome.PASSED, result

            summary("drill, 5 × 1 MB, restic (incl. snapshots + ls)", timed(once, runs))
        finally:
            os.environ.clear()
            os.environ.update(saved)
    finally:
        services.close()


def bench_age_on_100k_files(workdir: Path, runs: int) -> None:
    folder = workdir / "nas"
    for d in range(100):
        sub = folder / f"patient-{d:03d}"
        sub.mkdir(parents=True)
        for f in range(1000):
            (sub / f"{f:04d}.txt").touch()
    marker = destination.enroll(folder, datetime.now().astimezone())
    config = Config(backup_age=BackupAge(destinations=[BackupFolder(id=marker.id, path=str(folder))]))
    journal = Journal.in_memory()
    ctx = CheckContext(NoSystemBackups(), config, journal, clock=lambda: datetime.now().astimezone())
    check = BackupAgeCheck()
    finding = check.evaluate(Tick(), ctx)
    assert finding.facts["sources"][0]["readable"], finding
    summary("backup_age, 100,000 files, bounded scan", timed(lambda: check.evaluate(Tick(), ctx), runs))
    print(f"{'':<44} estimated={finding.facts['sources'][0]['estimated']} (the scan stopped at its cap)")
    summary("for scale: find over the same tree", timed(
        lambda: subprocess.run(["find", str(folder), "-newer", str(folder / MARKER_NAME)], capture_output=True,
                               check=True), runs))


MARKER_NAME = destination.MARKER


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/backup.py needs root (loop device and mount)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        originals = workdir / "Documents"
        make_originals(originals, 20, 1 << 20)
        bench_folder_drill(workdir, originals, args.runs)
        bench_restic_drill(workdir, originals, args.runs)
        bench_age_on_100k_files(workdir, args.runs)


if __name__ == "__main__":
    main()
