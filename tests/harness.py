"""Real desktop services for the tests: each one a direct child process, stopped and reaped.

Xvfb, a private session D-Bus (no service activation, so nothing starts behind the test's back),
dunst, gnome-keyring as Secret Service, and the two tray hosts. See shared/notes/harness.md.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = Path(__file__).resolve().parent / "support"
KEYRING_PASSWORD = "vigie-test-password"

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = predicate()
            if result:
                return result
        except Exception:  # noqa: S110 - the predicate is retried until the deadline
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class Services:
    """Starts processes and, on close, stops them in reverse order (terminate, then kill)."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, argv: list[str], env: Mapping[str, str], **kwargs) -> subprocess.Popen:
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        proc = subprocess.Popen(argv, env=dict(env), **kwargs)
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in reversed(self.procs):
            stop(proc)
        self.procs.clear()


def stop(proc: subprocess.Popen, timeout: float = 5) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# The checks that report on the machine itself (its disk's encryption, antivirus, firewall, system age,
# remote access, sign-in, Wi-Fi, password manager) differ from one test machine to the next. The
# isolated env turns them off the way an IT provider would, with a policy file, so that the other
# features' tests do not depend on the machine; their own tests turn them back on.
MACHINE_CHECKS = ("disk_encryption", "antivirus", "firewall", "os_support",
                  "remote_access", "sign_in", "wifi_security", "password_manager")
# The setup assistant opens at the agent's first start: every test's agent starts for the first time, and
# a window there would stand in the way of the windows, pixels and focus those tests look at. The tests of
# the assistant (test_first_run.py) name [first_run] in their policy to have it.
QUIET_AT_START = ("first_run",)
# Vigie trusts a policy only where root alone can write it and every folder above it
# (config/policy_file.py): /run is such a place; pytest's temporary folders are not.
ROOT_ONLY_BASE = Path("/run/vigie-test-policies")


# The machine's own package lists stay out too: `apt-get -s upgrade` on a full Debian mirror's lists
# costs 6-7 s of CPU per `vigie check`, and what it finds differs from one machine to the next. Every
# isolated env gets a private apt world of its own session (tests/conftest.py sets it); the tests of the
# updates check name theirs.
PRIVATE_APT_CONFIG: str | None = None


def session_policies() -> Path:
    """This process's own folder under ROOT_ONLY_BASE: two test runs at once never share one."""
    return ROOT_ONLY_BASE / str(os.getpid())


def trusted_folder() -> Path:
    """A fresh root-owned 0755 folder under session_policies() (needs root, as CI runs)."""
    for folder in (ROOT_ONLY_BASE, session_policies()):
        folder.mkdir(mode=0o755, exist_ok=True)
        folder.chmod(0o755)
    folder = Path(tempfile.mkdtemp(dir=session_policies(), prefix="vigie-"))
    folder.chmod(0o755)
    return folder


def policy_file(text: str = "", folder: Path | None = None) -> Path:
    """An IT provider's policy.toml holding `text`, with every machine check not named in it turned off."""
    named = set(re.findall(r"^\[([\w.]+)\]", text, flags=re.MULTILINE))
    off = "".join(f"\n[{name}]\nenabled = false\n" for name in (*MACHINE_CHECKS, *QUIET_AT_START) if name not in named)
    path = (folder or trusted_folder()) / "policy.toml"
    path.write_text(text + off, encoding="utf-8")
    path.chmod(0o644)
    return path


def policy_env(env: Mapping[str, str], text: str = "") -> dict[str, str]:
    """env with VIGIE_POLICY pointing at a trusted policy file holding `text` (see policy_file)."""
    return dict(env, VIGIE_POLICY=str(policy_file(text)))


def isolated_env(base: Path) -> dict[str, str]:
    """A fresh HOME and XDG tree: nothing of the machine's user leaks in or out (nor, through the
    protection checks, the machine's own state: see MACHINE_CHECKS)."""
    home = base / "home"
    runtime = base / "run"
    for path in (home, runtime):
        path.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "WAYLAND_DISPLAY"}}
    env.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local/share"), XDG_STATE_HOME=str(home / ".local/state"),
        XDG_RUNTIME_DIR=str(runtime), NO_AT_BRIDGE="1", PYTHONDONTWRITEBYTECODE="1",
        COLUMNS="120",  # tables wrap at a known width
    )
    env.pop("PYTHON_KEYRING_BACKEND", None)
    env.pop("VIGIE_LANG", None)
    # As an ordinary user the policy cannot be trusted anyway: then it stays where the test is.
    env["VIGIE_POLICY"] = str(policy_file(folder=None if os.geteuid() == 0 else base))
    if PRIVATE_APT_CONFIG:
        env["APT_CONFIG"] = PRIVATE_APT_CONFIG
    return env


def start_xvfb(services: Services, env: Mapping[str, str], screen: str = "1024x768x24", dpi: int | None = None) -> str:
    """An X server; dpi: its physical DPI (what Tk reads) and the desktop's Xft.dpi (a 200 % scale sets 192)."""
    read_fd, write_fd = os.pipe()
    extra = ["-dpi", str(dpi), "-noreset"] if dpi else []  # -noreset: Xft.dpi stays when its xrdb client leaves
    services.start(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, *extra, "-nolisten", "tcp"],
                   env, pass_fds=(write_fd,))
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        display = ":" + pipe.readline().strip()
    if dpi:
        subprocess.run(["xrdb", "-merge"], input=f"Xft.dpi: {dpi}\n", text=True, env=dict(env, DISPLAY=display),
                       check=True, timeout=10)
    return display


def desktop_colour_scheme(env: dict[str, str], scheme: str) -> dict[str, str]:
    """env whose GNOME colour-scheme setting reads `scheme` (prefer-dark, prefer-light, default): the real
    gsettings, on GLib's keyfile backend in the test's own XDG_CONFIG_HOME."""
    folder = Path(env["XDG_CONFIG_HOME"]) / "glib-2.0" / "settings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "keyfile").write_text(f"[org/gnome/desktop/interface]\ncolor-scheme='{scheme}'\n", encoding="utf-8")
    return dict(env, GSETTINGS_BACKEND="keyfile")


def start_bus(services: Services, env: dict[str, str]) -> str:
    busdir = Path(env["XDG_RUNTIME_DIR"]) / "bus"
    busdir.mkdir(exist_ok=True)
    conf = Path(env["XDG_RUNTIME_DIR"]) / "bus.conf"
    conf.write_text(BUS_CONF.format(dir=busdir))
    read_fd, write_fd = os.pipe()
    services.start(["dbus-daemon", "--config-file", str(conf), "--nofork", f"--print-address={write_fd}"],
                   env, pass_fds=(write_fd,))
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        env["DBUS_SESSION_BUS_ADDRESS"] = pipe.readline().strip()
    return env["DBUS_SESSION_BUS_ADDRESS"]


def bus_has(env: Mapping[str, str], name: str) -> bool:
    out = subprocess.run(
        ["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
         "--method", "org.freedesktop.DBus.NameHasOwner", name],
        env=dict(env), capture_output=True, text=True, timeout=10,
    ).stdout
    return "true" in out


def start_dunst(services: Services, env: Mapping[str, str]) -> subprocess.Popen:
    """dunst, with its action menu ("dmenu") answered by support/pick_dmenu.sh: write the text of a
    menu line (e.g. ",show_status]") to $DMENU_PICK_FILE, then run `dunstctl context`."""
    config = Path(env["XDG_RUNTIME_DIR"]) / "dunstrc"
    config.write_text(f'[global]\n    dmenu = "{SUPPORT / "pick_dmenu.sh"}"\n')
    proc = services.start(["dunst", "-config", str(config)],
                          dict(env, DMENU_PICK_FILE=str(Path(env["XDG_RUNTIME_DIR"]) / "dmenu-pick")))
    wait_for(lambda: bus_has(env, "org.freedesktop.Notifications"), what="dunst on the bus")
    return proc


def start_keyring(services: Services, env: Mapping[str, str], password: str = KEYRING_PASSWORD,
                  log: IO | None = None) -> subprocess.Popen:
    """log: where the daemon's own messages go (the real shells keep them with their other logs)."""
    output = {"stdout": log, "stderr": subprocess.STDOUT} if log else {}
    proc = services.start(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"], env,
                          stdin=subprocess.PIPE, **output)
    proc.stdin.write(password.encode())  # no newline: the whole input is the password
    proc.stdin.close()
    wait_for(lambda: bus_has(env, "org.freedesktop.secrets"), what="gnome-keyring on the bus")
    return proc


def start_silent_secret_service(services: Services, env: Mapping[str, str]) -> subprocess.Popen:
    proc = services.start([sys.executable, str(SUPPORT / "silent_secret_service.py")], env, stdout=subprocess.PIPE,
                          text=True)
    assert proc.stdout.readline().strip() == "READY"
    return proc


def start_sni_tray(services: Services, env: Mapping[str, str]) -> subprocess.Popen:
    # The watcher first, on its own: gtk-sni-tray's built-in one (--watcher) races its own host,
    # which then exits on ServiceUnknown about once in 30 starts.
    services.start(["status-notifier-watcher"], env)
    wait_for(lambda: bus_has(env, "org.kde.StatusNotifierWatcher"), what="SNI watcher")
    errors = Path(env["XDG_RUNTIME_DIR"]) / "sni-tray.stderr"
    proc = services.start(["gtk-sni-tray-standalone", "--bottom", "--end", "--size", "32", "-c", "gray"], env,
                          stderr=errors.open("w"))

    def host_registered() -> bool:
        # libayatana-appindicator falls back to XEmbed if the host is not registered yet.
        out = subprocess.run(
            ["gdbus", "call", "--session", "--dest", "org.kde.StatusNotifierWatcher", "--object-path",
             "/StatusNotifierWatcher", "--method", "org.freedesktop.DBus.Properties.Get",
             "org.kde.StatusNotifierWatcher", "IsStatusNotifierHostRegistered"],
            env=dict(env), capture_output=True, text=True, timeout=10,
        ).stdout
        return "true" in out

    try:
        wait_for(host_registered, what="SNI host registered")
    except TimeoutError as exc:
        state = "running" if proc.poll() is None else f"exited {proc.returncode}"
        raise TimeoutError(f"{exc}; gtk-sni-tray {state}: {errors.read_text()[-2000:]}") from None
    return proc


def start_xembed_tray(services: Services, env: Mapping[str, str]) -> subprocess.Popen:
    proc = services.start(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32",
                           "--SetDockType", "true", "--transparent", "false", "--tint", "0x808080"], env)
    wait_for(lambda: xembed_tray_owned(env), what="_NET_SYSTEM_TRAY_S0 owner")
    return proc


def xembed_tray_owned(env: Mapping[str, str]) -> bool:
    return selection_owners(env, "_NET_SYSTEM_TRAY_S0")[0][0] != 0


def selection_owners(env: Mapping[str, str], *selections: str) -> list[tuple[int, str]]:
    """Each X selection's owner: (window id, its WM_NAME or ""); (0, "") when none, or gone meanwhile."""
    from Xlib import display
    from Xlib.error import XError

    d = display.Display(env["DISPLAY"])
    try:
        owners = []
        for name in selections:
            owner = d.get_selection_owner(d.intern_atom(name))
            try:
                owners.append((owner.id, str(owner.get_wm_name() or "")) if owner and owner.id else (0, ""))
            except XError:
                owners.append((0, ""))
        return owners
    finally:
        d.close()


def press_notification_button(env: Mapping[str, str], action: str) -> None:
    (Path(env["XDG_RUNTIME_DIR"]) / "dmenu-pick").write_text(f",{action}]")
    subprocess.run(["dunstctl", "context"], env=dict(env), check=True, timeout=10)


def dunst_history(env: Mapping[str, str]) -> list[dict]:
    subprocess.run(["dunstctl", "close-all"], env=dict(env), check=True, timeout=10)  # shown → history
    time.sleep(0.1)
    out = subprocess.run(["dunstctl", "history"], env=dict(env), capture_output=True, text=True, check=True,
                         timeout=10).stdout
    return [{k: v["data"] for k, v in n.items()} for n in json.loads(out)["data"][0]]


def dunst_count(env: Mapping[str, str], which: str) -> int:
    """Notifications "displayed", "waiting" or in the "history"."""
    out = subprocess.run(["dunstctl", "count", which], env=dict(env), capture_output=True, text=True, check=True,
                         timeout=10).stdout
    return int(out.strip())


def vigie_argv() -> list[str]:
    return [sys.executable, "-m", "vigie"]


def run_vigie(env: Mapping[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*vigie_argv(), *args], env=dict(env), capture_output=True, text=True,
                          timeout=timeout)


def secret_lookup(env: Mapping[str, str], section: str) -> str | None:
    out = subprocess.run(["secret-tool", "lookup", "service", "Vigie", "username", section], env=dict(env),
                         capture_output=True, text=True, timeout=10)
    return out.stdout if out.returncode == 0 else None


def secret_store(env: Mapping[str, str], section: str, value: str) -> None:
    subprocess.run(["secret-tool", "store", "--label", f"Vigie {section}", "service", "Vigie", "username", section],
                   env=dict(env), input=value, text=True, check=True, timeout=10)


def sni_menu(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SUPPORT / "sni_menu.py"), *args], env=dict(env), capture_output=True,
                          text=True, timeout=30)


def screen_grabbed(env: Mapping[str, str]) -> bool:
    """True while a client (the screen locker) holds the keyboard grab."""
    return subprocess.run([sys.executable, str(SUPPORT / "grab_check.py")], env=dict(env), capture_output=True,
                          timeout=10).returncode == 0


def screenshot(env: Mapping[str, str], path: Path) -> Path:
    """The whole screen as a PNG at `path` (its folder made if needed), to be looked at after the run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(path)], env=dict(env), check=True, timeout=20)
    return path


def vigie_log(env: Mapping[str, str]) -> str:
    path = Path(env["XDG_STATE_HOME"]) / "Vigie" / "log" / "vigie.log"
    return path.read_text() if path.exists() else ""


def xdo(env: Mapping[str, str], *args: str) -> str:
    return subprocess.run(["xdotool", *args], env=dict(env), capture_output=True, text=True, timeout=10).stdout


def windows_of_class(env: Mapping[str, str], classname: str) -> list[dict[str, int]]:
    """Visible X windows of a WM_CLASS name, with their geometry."""
    found = []
    for wid in xdo(env, "search", "--onlyvisible", "--classname", classname).split():
        geometry = dict(line.split("=") for line in xdo(env, "getwindowgeometry", "--shell", wid).split())
        found.append({k: int(v) for k, v in geometry.items()})
    return found


def lockers_on(env: Mapping[str, str]) -> list:
    """The i3lock instances running on this test's display (i3lock forks a helper: parents only)."""
    import psutil

    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if (process.info["name"] == "i3lock" and process.environ().get("DISPLAY") == env["DISPLAY"]
                    and process.parent().name() != "i3lock"):
                found.append(process)
        except psutil.Error:
            continue
    return found


def window_ids(env: Mapping[str, str], classname: str) -> set[int]:
    """Visible X windows of a WM_CLASS name."""
    return {int(line) for line in xdo(env, "search", "--onlyvisible", "--classname", classname).split()}


def focused_window(env: Mapping[str, str]) -> int:
    return int(xdo(env, "getwindowfocus").strip() or 0)


def stacking(env: Mapping[str, str]) -> list[int]:
    """Top-level windows, bottom to top."""
    from Xlib import display

    d = display.Display(env["DISPLAY"])
    try:
        return [w.id for w in d.screen().root.query_tree().children]
    finally:
        d.close()


def count_near(image, colour: tuple[int, int, int], tolerance: int = 10) -> int:
    """Pixels of `image` within `tolerance` of `colour` on every channel."""
    from PIL import ImageChops

    masks = [band.point(lambda v, c=c: 255 if abs(v - c) <= tolerance else 0)
             for band, c in zip(image.split(), colour, strict=True)]
    return ImageChops.multiply(ImageChops.multiply(masks[0], masks[1]), masks[2]).histogram()[255]


RANSOM_BLUE = (0, 0, 170)  # the colour of support/ransom_window.py


def show_ransom_screen(services: Services, env: Mapping[str, str]) -> None:
    """A window standing for the ransom demand: blue, 400x300, at the top left; returns once mapped."""
    services.start([sys.executable, str(SUPPORT / "ransom_window.py")], env)
    wait_for(lambda: xdo(env, "search", "--onlyvisible", "--classname", "vigie-test-ransom").strip(),
             what="the ransom window mapped")


class WindowChild:
    """A `vigie ui …` child, its window id and the lines it prints (read by a thread, as ui.children does)."""

    line_timeout = 10.0

    def __init__(self, proc: subprocess.Popen, stderr: Path) -> None:
        self.proc, self.stderr, self.wid = proc, stderr, 0
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout or ():
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next_line(self, timeout: float | None = None) -> str | None:
        return self._lines.get(timeout=timeout or self.line_timeout)


def sni_items(env: Mapping[str, str]) -> list[str]:
    """The items the StatusNotifierWatcher knows (gtk-sni-tray's watcher keeps bus names only)."""
    out = subprocess.run(
        ["gdbus", "call", "--session", "--dest", "org.kde.StatusNotifierWatcher", "--object-path",
         "/StatusNotifierWatcher", "--method", "org.freedesktop.DBus.Properties.Get", "org.kde.StatusNotifierWatcher",
         "RegisteredStatusNotifierItems"], env=dict(env), capture_output=True, text=True, timeout=10).stdout
    return re.findall(r"'([^']+)'", out)
