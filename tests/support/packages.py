"""Build Vigie's bundle and .deb from this checkout, and install the .deb on this machine for real.

Shared by tests/test_packaging.py and bench/package.py. Installing is machine-wide: a file lock
serialises concurrent runs, dpkg's own lock is waited for, and a vigie package left over by an
interrupted run (recognised by its Maintainer) is purged first; any other is never touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "installer"
sys.path.insert(0, str(INSTALLER))
import vigie_meta as meta  # noqa: E402

PACKAGE = "vigie"
MACHINE_LOCK = Path("/tmp/vigie-packaging.lock")
DPKG_LOCK_WAIT = 180.0


@dataclass(frozen=True)
class Built:
    bundle: Path  # the onedir: bundle / "vigie" is the executable
    deb: Path
    bundle_seconds: float
    deb_seconds: float


class Failed(RuntimeError):
    pass


def run(argv: list[str], timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        raise Failed(f"{argv[:3]} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def build(out: Path, compress: str = "zstd") -> Built:
    """The bundle (fresh PyInstaller work dir) and the .deb; zstd keeps the .deb step to seconds."""
    started = time.monotonic()
    run(["bash", INSTALLER / "build-bundle.sh", "--dist", out / "dist", "--work", out / "work"])
    bundled = time.monotonic()
    deb = run(["bash", INSTALLER / "linux" / "build-deb.sh", "--bundle", out / "dist" / "vigie", "--out", out,
               "--compress", compress]).stdout.strip().splitlines()[-1]
    return Built(out / "dist" / "vigie", Path(deb), bundled - started, time.monotonic() - bundled)


def dpkg(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """dpkg, waiting (up to 3 minutes) while another dpkg or apt holds its lock."""
    deadline = time.monotonic() + DPKG_LOCK_WAIT
    while True:
        result = subprocess.run(["dpkg", *args], capture_output=True, text=True, timeout=300)
        locked = "locked by another process" in result.stderr or "is locked" in result.stderr
        if result.returncode == 0 or not locked or time.monotonic() > deadline:
            break
        time.sleep(0.5)  # polling dpkg's lock, not a synchronisation
    if check and result.returncode != 0:
        raise Failed(f"dpkg {' '.join(args)} exited {result.returncode}: {result.stderr[-3000:]}")
    return result


def status() -> dict[str, str]:
    """dpkg's record of the vigie package ({} when dpkg knows nothing of it)."""
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status}\\n${Maintainer}\\n", PACKAGE], capture_output=True,
                            text=True)
    if result.returncode != 0:
        return {}
    state, maintainer = [*result.stdout.splitlines(), "", ""][:2]
    return {} if state.endswith("not-installed") else {"status": state, "maintainer": maintainer}


def can_install() -> str | None:
    """None when this machine can take the .deb, else why not."""
    if os.geteuid() != 0:
        return "dpkg -i needs root (CI runs as root)"
    if not Path("/var/lib/dpkg/status").exists():
        return "not a dpkg system"
    return None


@contextlib.contextmanager
def machine_lock() -> Iterator[None]:
    with MACHINE_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def purge_leftover() -> None:
    """Purge a vigie package an interrupted run left; refuse to touch anybody else's."""
    current = status()
    if not current:
        return
    if current["maintainer"] != meta.MAINTAINER:
        raise Failed(f"a vigie package this suite did not build is installed ({current}); not touching it")
    dpkg("--purge", PACKAGE)


@contextlib.contextmanager
def installed(deb: Path) -> Iterator[None]:
    """The .deb installed for the duration; purged afterwards whatever happens."""
    with machine_lock():
        purge_leftover()
        try:
            dpkg("-i", str(deb))
            yield
        finally:
            if status():
                dpkg("--purge", PACKAGE, check=False)
