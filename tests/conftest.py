"""pytest fixtures on real services (see harness.py)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import harness

WINDOWS = sys.platform == "win32"  # the Windows lane (tests/test_windows_lane.py) runs the portable tests under Wine
collect_ignore = [] if WINDOWS else ["windows"]  # tests/windows/: Windows-only tests, run by that lane

REQUIRED_TOOLS = ["Xvfb", "dbus-daemon", "gdbus", "dunst", "dunstctl", "gnome-keyring-daemon", "secret-tool",
                  "trayer", "gtk-sni-tray-standalone", "status-notifier-watcher", "apt-ftparchive", "dpkg-deb",
                  "gsettings", "i3lock", "mate-screensaver", "xdotool", "pcscd", "restic", "borg", "wine",
                  "wineserver"]
REQUIRED_FILES = ["/usr/lib/pcsc/drivers/serial/libifdvpcd.so"]  # vsmartcard-vpcd: virtual card readers


# tests/run.sh runs the suite on two pytest-xdist workers, one scope each. The side scope holds what is
# self-contained: the windows and the keyring tests (their own X server, session bus and HOME; no agent),
# then the Wine lane last (its own Xvfb, wineserver and prefixes; Wine's drives are not the machine's
# mounts). The other tests start agents that watch the machine's mounts, or use its loop devices, pcscd
# and installed packages: they run one at a time, in the usual order, on the other worker. So do the real
# shells: beside the other worker, the xfce-xscreensaver session's gnome-keyring aborted twice in three CI
# runs (« gkd_secret_service_get_pkcs11_session: assertion 'client' failed », then a GIO assertion), never
# when they ran alone. Wine lowers its worker's priority: the timed tests beside it keep their CPU.
WINE_FILES = {"test_windows_lane.py", "test_windows_install.py"}
SIDE_FILES = {"test_config_keyring.py", "test_incident_guide.py", "test_lock_policy.py", "test_look.py",
              "test_status_window.py", "test_usb_popup.py", *WINE_FILES}
WINE_WORKER_NICENESS = 10


if importlib.util.find_spec("xdist"):  # not in the Windows lane's pytest

    def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
        """Two scopes, one per worker: the side files, and the rest in its usual order. (xdist_group
        marks did not group anything with pytest 9.2 and xdist 3.8: every test went its own way.)"""
        from xdist.scheduler import LoadScopeScheduling

        class SideBesideTheRest(LoadScopeScheduling):
            def _split_scope(self, nodeid: str) -> str:
                return "side" if nodeid.split("::")[0].rsplit("/", 1)[-1] in SIDE_FILES else "main"

        return SideBesideTheRest(config, log)


def pytest_runtest_setup(item: pytest.Item) -> None:
    global WINE_WORKER_NICENESS
    if hasattr(item.config, "workerinput") and item.path.name in WINE_FILES and WINE_WORKER_NICENESS:
        os.nice(WINE_WORKER_NICENESS)  # once: Wine, its builds and its Xvfb inherit it
        WINE_WORKER_NICENESS = 0


def pytest_sessionstart(session: pytest.Session) -> None:
    # The suite runs on real services; a missing one is a setup error, not a reason to skip.
    if WINDOWS:  # the Windows lane runs only tests that need none of them
        return
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    missing += [path for path in REQUIRED_FILES if not Path(path).exists()]
    if missing:
        raise pytest.UsageError(f"missing tools {missing}: run `bash tests/run.sh`, which installs them")


@pytest.fixture
def services() -> Iterator[harness.Services]:
    running = harness.Services()
    yield running
    running.close()


@pytest.fixture
def home_env(tmp_path: Path) -> dict[str, str]:
    """Isolated HOME/XDG, no display, no session bus."""
    return harness.isolated_env(tmp_path)


@pytest.fixture
def bus_env(home_env: dict[str, str], services: harness.Services) -> dict[str, str]:
    """A private session bus with nothing on it."""
    harness.start_bus(services, home_env)
    return home_env


@pytest.fixture
def keyring_env(bus_env: dict[str, str], services: harness.Services) -> dict[str, str]:
    """A private session bus with gnome-keyring unlocked as the Secret Service."""
    harness.start_keyring(services, bus_env)
    return bus_env


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An Xvfb of its own for a test module (the window tests)."""
    running = harness.Services()
    try:
        yield harness.start_xvfb(running, harness.isolated_env(tmp_path_factory.mktemp("xvfb")))
    finally:
        running.close()


@pytest.fixture(scope="session")
def inprocess_display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Xvfb for Tk windows built inside the pytest process itself. Tk keeps a display connection
    open after root.destroy(); if that X server went away with its module, the next Tk call in this
    process dies in Xlib's I/O error handler (exit 1, the output lost). So it lives for the session."""
    running = harness.Services()
    try:
        yield harness.start_xvfb(running, harness.isolated_env(tmp_path_factory.mktemp("xvfb-inprocess")))
    finally:
        running.close()


@pytest.fixture
def gui_env(tmp_path: Path, display: str) -> dict[str, str]:
    return dict(harness.isolated_env(tmp_path), DISPLAY=display)


@pytest.fixture
def bare_desktop(home_env: dict[str, str], services: harness.Services) -> dict[str, str]:
    """A fresh desktop for one test, with no notification server: Xvfb, a session bus,
    gnome-keyring, an SNI host (gtk-sni-tray) and an XEmbed tray (trayer)."""
    env = home_env
    env["DISPLAY"] = harness.start_xvfb(services, env)
    harness.start_bus(services, env)
    harness.start_keyring(services, env)
    harness.start_sni_tray(services, env)
    harness.start_xembed_tray(services, env)
    return env


@pytest.fixture
def desktop_env(bare_desktop: dict[str, str], services: harness.Services) -> dict[str, str]:
    """bare_desktop plus dunst as the notification server."""
    harness.start_dunst(services, bare_desktop)
    return bare_desktop


@pytest.fixture(scope="session")
def apt_config(tmp_path_factory: pytest.TempPathFactory) -> str:
    """APT_CONFIG of a private apt world with one regular and one security update pending."""
    return make_apt_world(tmp_path_factory.mktemp("apt") / "world")


@pytest.fixture(scope="session", autouse=True)
def private_apt_for_every_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every isolated env reads a private apt world (harness.PRIVATE_APT_CONFIG says why), apart from
    apt_config's, which some tests change for a moment. Not under Windows (the Wine lane): no apt there."""
    if sys.platform == "win32":
        yield
        return
    harness.PRIVATE_APT_CONFIG = make_apt_world(tmp_path_factory.mktemp("apt-default") / "world")
    yield
    harness.PRIVATE_APT_CONFIG = None


def make_apt_world(workdir: Path) -> str:
    out = subprocess.run(["bash", str(harness.SUPPORT / "make_apt_repo.sh"), str(workdir)], capture_output=True,
                         text=True, check=True, timeout=120)
    return out.stdout.strip().splitlines()[-1]


LOCKER = "i3lock -n -c 204080"


@pytest.fixture
def start_agent(apt_config):
    """Factory: start the agent on a desktop env (APT_CONFIG set, a locker configured), wait for its icon."""
    started = []

    def start(env, backend="appindicator", locker=LOCKER, **extra):
        env = dict(env, APT_CONFIG=apt_config, PYSTRAY_BACKEND=backend, **extra)
        if locker is not None:
            assert harness.run_vigie(env, "config", "set", "lock.locker_command", locker).returncode == 0
        proc = subprocess.Popen([sys.executable, "-m", "vigie"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        started.append((proc, env))
        harness.wait_for(lambda: f"tray visible backend={backend}" in harness.vigie_log(env), timeout=20,
                         what=f"the {backend} icon")
        return proc, env

    yield start
    for proc, env in started:
        for locker in harness.lockers_on(env):  # before the agent goes: it reaps its own locker
            locker.terminate()
        harness.stop(proc)


class Stick:
    """A loop device with a real file system that the kernel says is removable, as a USB stick.

    The removable flag is faked the only way sysfs allows: a bind mount over
    /sys/block/loopN/removable (see shared/notes/harness.md, storage)."""

    def __init__(self, workdir: Path, label: str, fs: str = "ext4") -> None:
        self.image = workdir / "stick.img"
        self.mount_point = workdir / "mnt point"  # a space: mountinfo escapes it as \040
        self.mount_point.mkdir()
        subprocess.run(["truncate", "-s", "160M" if fs == "btrfs" else "32M", str(self.image)], check=True)
        mkfs = ["mkfs.btrfs", "-q", "-f", "-L", label] if fs == "btrfs" else ["mkfs.ext4", "-q", "-L", label]
        subprocess.run([*mkfs, str(self.image)], check=True, capture_output=True)
        self.device = subprocess.run(["losetup", "-f", "--show", str(self.image)], capture_output=True, text=True,
                                     check=True).stdout.strip()
        self.flag = workdir / "removable"
        self.flag.write_text("1\n")
        self.sys_flag = f"/sys/block/{Path(self.device).name}/removable"
        subprocess.run(["mount", "--bind", str(self.flag), self.sys_flag], check=True)

    def mount(self) -> None:
        subprocess.run(["mount", self.device, str(self.mount_point)], check=True)

    def umount(self) -> None:
        subprocess.run(["umount", str(self.mount_point)], capture_output=True)

    def is_mounted(self) -> bool:
        return str(self.mount_point) in Path("/proc/self/mounts").read_text().replace("\\040", " ")

    def remove(self) -> None:
        self.umount()
        subprocess.run(["umount", self.sys_flag], capture_output=True)
        subprocess.run(["losetup", "-d", self.device], capture_output=True)


@pytest.fixture
def make_stick(tmp_path: Path) -> Iterator:
    if os.geteuid() != 0:
        pytest.skip("loop devices and mounts need root (CI runs as root)")
    sticks = []

    def make(label: str, fs: str = "ext4") -> Stick:
        workdir = tmp_path / f"stick{len(sticks)}"
        workdir.mkdir()
        sticks.append(Stick(workdir, label, fs))
        return sticks[-1]

    yield make
    for stick in sticks:
        stick.remove()


@pytest.fixture
def pcscd(tmp_path: Path) -> Iterator:
    """pcscd with two vpcd virtual readers (tests/support/pcsc.py); no command may reach a card."""
    from support import pcsc  # Linux only (signals, /run/pcscd)

    daemon = pcsc.Pcscd(tmp_path / "pcscd")
    daemon.start()
    yield daemon
    daemon.close()
    assert daemon.apdus() == [], "a command was sent to a card"


@pytest.fixture
def policy_dir() -> Iterator[Path]:
    """A root-owned 0755 folder: the only kind of place where Vigie trusts an IT provider's policy.
    Write the policy with harness.policy_file(text, policy_dir) so the machine checks stay off."""
    if os.geteuid() != 0:
        pytest.skip("a policy is trusted only in folders owned by root (CI runs as root)")
    folder = harness.trusted_folder()
    base = harness.ROOT_ONLY_BASE.lstat()
    assert stat.S_ISDIR(base.st_mode) and base.st_uid == 0 and stat.S_IMODE(base.st_mode) == 0o755
    yield folder
    shutil.rmtree(folder)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The Wine tests run last; what they need (Wine prefixes, the installer: minutes of CPU) is built
    meanwhile, in the background at the lowest priority (tests/wine.py)."""
    if WINDOWS or session.config.option.collectonly:
        return
    if hasattr(session.config, "workerinput"):
        return  # the Wine lane's own worker builds them, at its lower priority (pytest_runtest_setup)
    files = {item.path.name for item in session.items}
    if files & {"test_windows_lane.py", "test_windows_install.py"}:
        import wine

        wine.CACHE.mkdir(parents=True, exist_ok=True)
        wine.prepare_in_background("test_windows_install.py" in files, wine.CACHE / f"prepare-{os.getpid()}.log")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The policies the isolated envs wrote (harness.trusted_folder) go with the session; so does an
    unfinished background preparation of the Wine tests."""
    if not WINDOWS:
        import wine

        wine.stop_background()
    if os.geteuid() == 0:
        shutil.rmtree(harness.session_policies(), ignore_errors=True)
