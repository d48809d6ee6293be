"""The Windows lane's harness: a real Windows CPython under Wine, driven from the Linux test run.

tests/windows/setup-prefix.sh builds (once, cached outside the clone) a Wine prefix holding CPython
3.11 for Windows and Vigie's locked Windows test dependencies. A `Wine` here is one private copy of
that prefix (hard links for the big read-only files, real copies of the registry), its own Xvfb, and
its own wineserver: two runs never share Windows state (Credential Manager, registry, mutexes).
Vigie runs from this checkout (PYTHONPATH points Windows' Python at agent/ through the Z: drive).

Wine's known gaps are in shared/notes/windows-wine.md; the ones that shape this module:
- the standard handles of a Windows Python must be pipes (a regular file breaks its start under Wine 8);
- WINEDLLOVERRIDES keeps Mono/Gecko prompts and winedbg away (a crash just ends the process);
- Wine is slow on 2 shared cores: every bound here is generous, and nothing waits on a fixed sleep.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import harness

ROOT = harness.ROOT
SETUP = ROOT / "tests" / "windows" / "setup-prefix.sh"
PYTHON = r"C:\Python311\python.exe"
PYTHONW = r"C:\Python311\pythonw.exe"
SCREEN = "1280x800"
USER = "root" if os.geteuid() == 0 else os.environ.get("USER", "root")  # Wine names C:\users\<unix user>


CACHE = Path(os.environ.get("VIGIE_WINE_CACHE") or Path.home() / ".cache" / "vigie-wine")
INSTALLER_SOURCES = ["agent", "installer", "assets", "requirements/pip.txt", "requirements/windows-build.txt",
                     "pyproject.toml", "tests/windows/setup-prefix.sh"]
_background: subprocess.Popen | None = None  # prepare_in_background()'s work, if started


def prepare_in_background(installer_too: bool, log: Path) -> None:
    """Build what the Wine tests need while the rest of the suite runs (they come last): the prefixes,
    and the installer when its test is collected (5 minutes on 2 cores). At the lowest CPU and I/O
    priority, so that the tests running meanwhile keep their timing. The fixtures wait for it."""
    global _background
    steps = []
    if installer_too:
        if not _installer_built():
            steps.append(shlex.join(_build_argv()) + " >/dev/null")
        steps.append(shlex.join(["bash", str(SETUP), "bare"]) + " >/dev/null")
    steps.append(shlex.join(["bash", str(SETUP), "test"]) + " >/dev/null")
    with log.open("wb") as out:
        _background = subprocess.Popen(["nice", "-n", "19", "ionice", "-c", "3", "bash", "-c", " && ".join(steps)],
                                       stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)


def wait_for_background(timeout: float = 3600) -> None:
    if _background is not None and _background.poll() is None:
        _background.wait(timeout)


def stop_background() -> None:
    if _background is not None and _background.poll() is None:
        os.killpg(_background.pid, 9)
        _background.wait(60)


def installer() -> Path:
    """vigie-setup-<version>.exe built from these sources: cached by their hash (a run whose sources did
    not change reuses it), built now when missing."""
    wait_for_background()
    if not _installer_built():
        built = subprocess.run(_build_argv(), capture_output=True, text=True, timeout=3600)
        if built.returncode != 0:
            raise RuntimeError(f"installer/windows/build.sh failed:\n{built.stderr[-4000:]}")
        prune_cache()
    return sorted(_installer_dir().glob("vigie-setup-*.exe"))[-1]


KEEP_INSTALLERS = 3  # the newest: this run's, and those other checkouts of this machine may be testing
STALE_SECONDS = 3600


def prune_cache() -> None:
    """Each change to the sources adds an installer and its bundle (about 90 MB) to the cache, and each
    run a log: older ones go, unless touched within the hour (another run may be reading them)."""
    import contextlib
    import time

    with contextlib.suppress(OSError):  # another run removed or renamed one meanwhile: the next run prunes
        _prune(time.time() - STALE_SECONDS)


def _prune(stale: float) -> None:
    builds = sorted((d for d in (CACHE / "installers").glob("*") if d.is_dir() and d.suffix != ".partial"),
                    key=lambda d: d.stat().st_mtime, reverse=True)
    for old in builds[KEEP_INSTALLERS:]:
        if old.stat().st_mtime < stale:
            shutil.rmtree(old, ignore_errors=True)
    for log in CACHE.glob("prepare-*.log"):
        if log.stat().st_mtime < stale:
            log.unlink(missing_ok=True)


def _build_argv() -> list[str]:
    """build.sh into a folder of its own, renamed into the cache once complete: a build cut short
    never passes for a built installer. Under a lock: two test processes (pytest-xdist's workers, two
    worktrees) build it once, the second finds it built."""
    final = _installer_dir()
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(final.name + ".partial")
    script = ('exec 9>"$4" && flock 9 && { compgen -G "$3/vigie-setup-*.exe" >/dev/null && exit 0; '
              'rm -rf "$2" && bash "$1" --out "$2" && rm -rf "$3" && mv "$2" "$3"; }')
    return ["bash", "-c", script, "build", str(ROOT / "installer" / "windows" / "build.sh"), str(partial),
            str(final), str(final.parent / ".lock")]


def _installer_built() -> bool:
    return any(_installer_dir().glob("vigie-setup-*.exe"))


def _installer_dir() -> Path:
    files = subprocess.run(["git", "ls-files", "-z", "--", *INSTALLER_SOURCES], cwd=ROOT, capture_output=True,
                           check=True, timeout=60).stdout.split(b"\0")
    digest = hashlib.sha256()
    for name in sorted(filter(None, files)):
        path = ROOT / os.fsdecode(name)
        if path.is_file():
            digest.update(name + b"\0" + path.read_bytes())
    return CACHE / "installers" / digest.hexdigest()[:16]


def template_prefix(kind: str = "test", timeout: float = 1800) -> Path:
    """The cached prefix (setup-prefix.sh's test, build or bare), built first if needed (2 to 5 minutes)."""
    wait_for_background()
    out = subprocess.run(["bash", str(SETUP), kind], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"setup-prefix.sh failed ({out.returncode}):\n{out.stderr[-3000:]}")
    prefix = Path(out.stdout.strip().splitlines()[-1])
    (prefix.parent / ".complete").touch()  # in use: not pruned
    return prefix


def win_path(path: Path | str) -> str:
    """A Linux path as Windows sees it through Wine's Z: drive."""
    return "Z:" + str(path).replace("/", "\\")


class Wine:
    """One private Windows: a copy of the template prefix, an Xvfb, a wineserver, Wine's shell desktop."""

    def __init__(self, workdir: Path, template: Path) -> None:
        self.workdir = workdir
        self.prefix = workdir / "prefix"
        self.services = harness.Services()
        _copy_prefix(template, self.prefix)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("WINE", "PYTHON", "VIGIE_"))}
        self.env.update(
            WINEPREFIX=str(self.prefix), WINEDEBUG="-all",
            WINEDLLOVERRIDES="mscoree,mshtml=;winedbg.exe=d",
            PYTHONPATH=win_path(ROOT / "agent"),
            PYTHONPYCACHEPREFIX=win_path(workdir / "pycache"),  # never Windows bytecode in the checkout
            # Importing keyring's Windows backend takes 3 to 5 s under Wine on a loaded machine.
            VIGIE_KEYRING_TIMEOUT="60",
            LANG="fr_FR.UTF-8", TZ="Europe/Paris",
        )
        self.env.pop("DISPLAY", None)
        self.env.pop("LC_ALL", None)

    # Paths inside the prefix, seen from Linux.
    @property
    def drive_c(self) -> Path:
        return self.prefix / "drive_c"

    @property
    def local_appdata(self) -> Path:
        return self.drive_c / "users" / USER / "AppData" / "Local"

    def vigie_log(self) -> str:
        path = self.local_appdata / "Vigie" / "Logs" / "vigie.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def start_display(self) -> str:
        """An Xvfb of the desktop's size; Wine's "shell" desktop (taskbar, notification area) opens on it
        with the first window."""
        read_fd, write_fd = os.pipe()
        self.services.start(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{SCREEN}x24", "-nolisten", "tcp"],
                            self.env, pass_fds=(write_fd,))
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            self.env["DISPLAY"] = ":" + pipe.readline().strip()
        return self.env["DISPLAY"]

    def python(self, *args: str, timeout: float = 180, env: Mapping[str, str] | None = None,
               stdin: bytes | None = None, pythonw: bool = False) -> subprocess.CompletedProcess:
        """Run Windows' python.exe; stdout and stderr come back as bytes, exactly as written."""
        return subprocess.run(["wine", PYTHONW if pythonw else PYTHON, *args], env=dict(self.env, **(env or {})),
                              input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                              capture_output=True, timeout=timeout, cwd=ROOT)

    def run(self, *argv: str, timeout: float = 600,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
        """Any Windows program (an installer, vigie-cli.exe), output in pipes as bytes."""
        return subprocess.run(["wine", *argv], env=dict(self.env, **(env or {})), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout, cwd=ROOT)

    def vigie(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.python("-m", "vigie", *args, **kwargs)

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen:
        """A long-running Windows program (the agent), its output in pipes read by the caller."""
        return self.services.start(["wine", *args], dict(self.env, **(env or {})), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)

    def reg_query(self, key: str, value: str) -> str | None:
        """A value in the registry's 64-bit view, where a 64-bit install writes. `wine reg` is the 32-bit
        reg.exe when wine32 is installed: without /reg:64 it reads Wow6432Node and finds nothing."""
        out = subprocess.run(["wine", "reg", "query", key, "/v", value, "/reg:64"], env=self.env, capture_output=True,
                             stdin=subprocess.DEVNULL, timeout=120)
        for line in out.stdout.decode("utf-8", "replace").splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and parts[0] == value:
                return parts[2].strip()
        return None

    def screenshot(self, path: Path) -> Path:
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, check=True, timeout=60)
        return path

    def close(self) -> None:
        """End this prefix's wineserver (and so every Windows process of it), then the display."""
        for argv in (["wineserver", "-k"], ["wineserver", "-w"]):
            subprocess.run(argv, env=self.env, capture_output=True, timeout=120)
        self.services.close()
        shutil.rmtree(self.prefix, ignore_errors=True)


def _copy_prefix(template: Path, target: Path) -> None:
    """Hard links for the 900 MB of files Wine and Python only read (1 s instead of 9), real copies of
    what Wine rewrites in place: the registry hives."""
    subprocess.run(["cp", "-al", str(template), str(target)], check=True, timeout=300)
    for hive in target.glob("*.reg"):
        hive.unlink()
        shutil.copy2(template / hive.name, hive)

