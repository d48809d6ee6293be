"""Real desktop shells for the tests (issue 16): GNOME Shell (X11 on Xvfb, or Wayland headless) with
Ubuntu's AppIndicator extension, KDE Plasma on Xvfb, XFCE on Xvfb. Each starts in a few seconds, isolated:
its own HOME and XDG tree, display, session bus (the distribution's session.conf, with service activation
from a private copy of the service folder, without the other shells' and dunst's services), and a
private SYSTEM bus with small GDM/logind stand-ins (support/desktop_system_bus.py) given to the shell and
to Vigie. Learnt from shared/harness-probes/desktops/.

    shell = start_shell("gnome-x11", base)   # a Shell: env, unlock(), nudge(), notifications()…
    shell.close()
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import harness

SUPPORT = harness.SUPPORT
SHELLS = ("gnome-x11", "gnome-wayland", "kde", "xfce-xscreensaver", "xfce-light-locker")
# Services another desktop installed on this same machine would activate on the bus (each of them also
# claims org.freedesktop.Notifications or a screen saver name): a real session of one desktop has none.
FOREIGN_SERVICES = {
    "gnome": ("dunst", "mate-screensaver", "plasma", "xfce4-notifyd"),
    "kde": ("dunst", "mate-screensaver", "gnome-shell", "gjs", "xfce4-notifyd"),
    "xfce": ("dunst", "mate-screensaver", "plasma", "gnome-shell", "gjs"),
}
SYSTEM_BUS_CONF = """<busconfig><type>system</type><listen>unix:path={socket}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
<allow own="*"/><allow user="*"/></policy></busconfig>
"""
# A test-only GNOME Shell extension: Mutter's unsafe mode, so org.gnome.Shell.Eval answers the test
# (GNOME 41+ refuse it to other callers). Vigie never uses Eval.
UNSAFE_EXTENSION = "vigie-test-unsafe@vigie"
NOTIFICATIONS_JS = (
    "JSON.stringify(imports.ui.main.messageTray.getSources().flatMap(s => s.notifications.map(n => "
    "({title: n.title, body: n.bannerBodyText || '', actions: (n.actions || []).map(a => a.label)}))))"
)


def gdbus(env: Mapping[str, str], dest: str, path: str, method: str, *args: str, bus: str = "--session",
          timeout: float = 10) -> str:
    return subprocess.run(["gdbus", "call", bus, "--dest", dest, "--object-path", path, "--method", method, *args],
                          env=dict(env), capture_output=True, text=True, timeout=timeout).stdout.strip()


class Shell:
    """A running desktop shell; subclasses know how to unlock it and read its notifications."""

    kind = ""
    saver = ("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver")

    def __init__(self, name: str, base: Path) -> None:
        self.name, self.base = name, base
        self.services = harness.Services()
        self.env = harness.isolated_env(base)
        self.logs = base / "logs"
        self.logs.mkdir(exist_ok=True)
        self.started_in = 0.0

    # --- start ---------------------------------------------------------------------------------
    def log_file(self, name: str):
        return (self.logs / f"{name}.log").open("w")

    def start(self, argv: list[str], name: str, env: Mapping[str, str] | None = None, **kw) -> subprocess.Popen:
        log = self.log_file(name)
        return self.services.start(argv, env or self.env, stdout=log, stderr=subprocess.STDOUT, **kw)

    def session_bus(self) -> None:
        """The distribution's session.conf, activating only this desktop's services."""
        services = self.base / "services"
        services.mkdir()
        foreign = FOREIGN_SERVICES[self.kind]
        for service in Path("/usr/share/dbus-1/services").glob("*.service"):
            text = service.read_text(errors="replace")
            exec_line = next((line for line in text.splitlines() if line.startswith("Exec=")), "")
            if not any(word in exec_line for word in foreign):
                (services / service.name).symlink_to(service)
        conf = Path("/usr/share/dbus-1/session.conf").read_text()
        conf = conf.replace("<standard_session_servicedirs />", f"<servicedir>{services}</servicedir>")
        path = self.base / "session.conf"
        path.write_text(conf)
        read_fd, write_fd = os.pipe()
        self.start(["dbus-daemon", "--config-file", str(path), "--nofork", f"--print-address={write_fd}"],
                   "session-bus", pass_fds=(write_fd,))
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            self.env["DBUS_SESSION_BUS_ADDRESS"] = pipe.readline().strip()

    def system_bus(self, *stand_in_args: str) -> None:
        socket = self.base / "system_bus_socket"
        conf = self.base / "system.conf"
        conf.write_text(SYSTEM_BUS_CONF.format(socket=socket))
        read_fd, write_fd = os.pipe()
        self.start(["dbus-daemon", "--config-file", str(conf), "--nofork", f"--print-address={write_fd}"],
                   "system-bus", pass_fds=(write_fd,))
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            pipe.readline()
        self.env["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={socket}"
        self.env["XDG_SESSION_ID"] = "c1"
        stand_in = self.services.start([sys.executable, str(SUPPORT / "desktop_system_bus.py"),
                                        str(self.logs / "system-calls.log"), *stand_in_args], self.env,
                                       stdout=subprocess.PIPE,
                                       text=True)
        assert stand_in.stdout.readline().strip() == "ready"

    def xvfb(self, glx: bool = False) -> None:
        read_fd, write_fd = os.pipe()
        argv = ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"]
        self.start([*argv, "+extension", "GLX"] if glx else argv, "xvfb", pass_fds=(write_fd,))
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            self.env["DISPLAY"] = ":" + pipe.readline().strip()

    def has(self, name: str) -> bool:
        return harness.bus_has(self.env, name)

    def wait_name(self, name: str, timeout: float = 30) -> None:
        harness.wait_for(lambda: self.has(name), timeout=timeout, what=f"{name} on the {self.name} bus")

    def activation_env(self, *names: str) -> None:
        """What startplasma / xfce4-session do: D-Bus-activated services get the display."""
        subprocess.run(["dbus-update-activation-environment", *names], env=self.env, check=True, timeout=10)

    def sni_host(self, timeout: float = 30) -> None:
        harness.wait_for(lambda: "true" in gdbus(self.env, "org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher",
                                                "org.freedesktop.DBus.Properties.Get", "org.kde.StatusNotifierWatcher",
                                                "IsStatusNotifierHostRegistered"),
                         timeout=timeout, what=f"the {self.name} tray (SNI host)")

    def close(self) -> None:
        self.services.close()

    # --- what a test reads and does -----------------------------------------------------------------
    def screensaver_active(self) -> bool:
        service, path, interface = self.saver
        return "true" in gdbus(self.env, service, path, f"{interface}.GetActive")

    def nudge(self) -> None:
        """One real input event (XTEST): the X server's and the shell's idle counters restart."""
        harness.xdo(self.env, "mousemove_relative", "--", "5", "5")

    def unlock(self) -> None:
        raise NotImplementedError

    def notification_server_free(self, timeout: float = 20) -> float:
        """Seconds until the shell's notification server answers a call (its main loop is free again)."""
        started = time.monotonic()
        try:
            answer = gdbus(self.env, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                           "org.freedesktop.Notifications.GetServerInformation", timeout=timeout)
        except subprocess.TimeoutExpired:
            answer = ""
        assert answer, f"the shell's notification server did not answer within {timeout} s"
        return time.monotonic() - started

    def notifications(self) -> list[dict]:
        """The shell's own list: [{title, body, actions: [labels]}]."""
        raise NotImplementedError

    def press(self, label: str) -> None:
        """Press a notification's button through the shell."""
        raise NotImplementedError

    def screenshot(self, path: Path) -> Path:
        return harness.screenshot(self.env, path)

    def clear_notifications(self) -> None:
        """Before the test proper: what the shell showed at its own start is not the test's."""

    def popup_shown(self) -> bool:
        """A notification pop-up is on screen (GNOME's banner is part of the shell's own stage)."""
        return True

    def painted(self, windows: list[dict[str, int]]) -> bool:
        """One of these windows shows something: its pixels on screen are not black (a pop-up is mapped
        before it is drawn)."""
        from PIL import Image, ImageStat

        shot = self.screenshot(self.base / "popup-check.png")
        with Image.open(shot) as image:
            for w in windows:
                box = (w["X"], w["Y"], w["X"] + w["WIDTH"], w["Y"] + w["HEIGHT"])
                if sum(ImageStat.Stat(image.convert("L").crop(box)).mean) > 60:
                    return True
        return False

    def _small_windows(self, classname: str) -> list[dict[str, int]]:
        """Windows the size of a notification pop-up (a tooltip is lower than 80 px)."""
        return [w for w in harness.windows_of_class(self.env, classname) if 40 < w["WIDTH"] < 700
                and 80 <= w["HEIGHT"] < 400]


class LineReader:
    """The lines a helper process prints, read by a thread as they come."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout or ():
            self.lines.append(line.rstrip("\n"))


# --- GNOME Shell -------------------------------------------------------------------------------------

class Gnome(Shell):
    kind = "gnome"
    saver = ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver")

    def __init__(self, name: str, base: Path, mode: str) -> None:
        super().__init__(name, base)
        self.mode = mode
        self._bus = None
        self.env.update(XDG_CURRENT_DESKTOP="ubuntu:GNOME", XDG_SESSION_DESKTOP="ubuntu", GDMSESSION="ubuntu",
                        XDG_SESSION_TYPE=mode, LANG="C.UTF-8")

    def launch(self) -> None:
        self.session_bus()
        extension = Path(self.env["XDG_DATA_HOME"]) / "gnome-shell/extensions" / UNSAFE_EXTENSION
        extension.mkdir(parents=True)
        (extension / "metadata.json").write_text(json.dumps(
            {"uuid": UNSAFE_EXTENSION, "name": "Vigie tests: unsafe mode", "description": "test only",
             "shell-version": ["43"]}))
        (extension / "extension.js").write_text(
            "function init() {}\nfunction enable() { global.context.unsafe_mode = true; }\nfunction disable() {}\n")
        for key, value in (("disable-user-extensions", "false"),
                           ("enabled-extensions", f"['ubuntu-appindicators@ubuntu.com', '{UNSAFE_EXTENSION}']"),
                           ("welcome-dialog-last-shown-version", "'99'")):
            subprocess.run(["gsettings", "set", "org.gnome.shell", key, value], env=self.env, check=True, timeout=20)
        self.system_bus()
        harness.start_keyring(self.services, self.env, log=self.log_file("keyring"))
        if self.mode == "x11":
            self.xvfb(glx=True)
            self.start(["gnome-shell", "--x11", "--replace", "--sm-disable"], "gnome-shell")
        else:
            self.env["WAYLAND_DISPLAY"] = f"vigie-wl-{os.getpid()}"
            self.start(["gnome-shell", "--wayland", "--headless", "--virtual-monitor", "1280x800", "--sm-disable",
                        f"--wayland-display={self.env['WAYLAND_DISPLAY']}"], "gnome-shell")
        self.wait_name("org.gnome.Shell", 60)
        self.sni_host()
        harness.wait_for(lambda: self.eval("'ready'") == "ready", what="org.gnome.Shell.Eval (unsafe mode)")
        if self.mode == "wayland":  # Xwayland's display, for xdotool-free probes and Vigie's own X needs
            self.env["DISPLAY"] = self.eval('imports.gi.GLib.getenv("DISPLAY")')

    def eval(self, js: str) -> object:
        """org.gnome.Shell.Eval: the value of `js`, through JSON."""
        from gi.repository import Gio, GLib

        if self._bus is None:
            flags = Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
            self._bus = Gio.DBusConnection.new_for_address_sync(self.env["DBUS_SESSION_BUS_ADDRESS"], flags, None, None)
        ok, out = self._bus.call_sync("org.gnome.Shell", "/org/gnome/Shell", "org.gnome.Shell", "Eval",
                                      GLib.Variant("(s)", (js,)), None, Gio.DBusCallFlags.NONE, 10000, None).unpack()
        if not ok:
            raise RuntimeError(f"Eval failed: {out}")
        return json.loads(out) if out else None

    def nudge(self) -> None:
        if self.mode == "x11":
            super().nudge()
            return
        # Wayland: a Clutter virtual pointer, the real input path (Xwayland's XTEST does not reach Mutter's idle)
        self.eval("const C = imports.gi.Clutter; if (!global._vigieTestPointer) global._vigieTestPointer = "
                  "C.get_default_backend().get_default_seat().create_virtual_device(C.InputDeviceType.POINTER_DEVICE);"
                  " global._vigieTestPointer.notify_relative_motion(imports.gi.GLib.get_monotonic_time(), 5, 5); 1")

    def unlock(self) -> None:
        gdbus(self.env, *self.saver[:2], f"{self.saver[2]}.SetActive", "false")

    def notifications(self) -> list[dict]:
        return json.loads(self.eval(NOTIFICATIONS_JS))

    def popup_shown(self) -> bool:
        """The banner is on the shell's own stage: the message tray has shown one (State.SHOWN), for a
        notification of Vigie's (it slides in after the notification is listed)."""
        state, source = json.loads(self.eval(
            "const M = imports.ui.main.messageTray; JSON.stringify([M._notificationState, "
            "M._banner ? M._banner.notification.source.title : null])"))
        return state == 2 and source == "Vigie"

    def clear_notifications(self) -> None:
        self.eval("imports.ui.main.messageTray.getSources().forEach(s => s.destroy()); 1")  # "unsafe mode"…

    def press(self, label: str) -> None:
        """What the banner's button does: the action's callback (it emits ActionInvoked to Vigie)."""
        self.eval("imports.ui.main.messageTray.getSources().forEach(s => s.notifications.forEach(n => "
                  f"(n.actions || []).forEach(a => {{ if (a.label === {json.dumps(label)}) {{ a.callback(); "
                  "if (!n.resident) n.destroy(); } }))); 1")

    def screenshot(self, path: Path) -> Path:
        if self.mode == "x11":
            return super().screenshot(path)
        gdbus(self.env, "org.gnome.Shell.Screenshot", "/org/gnome/Shell/Screenshot",
              "org.gnome.Shell.Screenshot.Screenshot", "false", "false", str(path))
        return path


# --- KDE Plasma --------------------------------------------------------------------------------------

class Kde(Shell):
    kind = "kde"

    def __init__(self, name: str, base: Path) -> None:
        super().__init__(name, base)
        self.env.update(XDG_CURRENT_DESKTOP="KDE", XDG_SESSION_DESKTOP="KDE", KDE_FULL_SESSION="true",
                        KDE_SESSION_VERSION="5", XDG_SESSION_TYPE="x11", DESKTOP_SESSION="plasma", LANG="C.UTF-8",
                        QT_QPA_PLATFORM="xcb")

    def launch(self) -> None:
        self.session_bus()
        self.system_bus()
        harness.start_keyring(self.services, self.env, log=self.log_file("keyring"))
        self.xvfb(glx=True)
        self.activation_env("DISPLAY", "XDG_CURRENT_DESKTOP", "XDG_SESSION_TYPE", "KDE_FULL_SESSION",
                            "KDE_SESSION_VERSION", "QT_QPA_PLATFORM", "HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME",
                            "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "NO_AT_BRIDGE")
        self.start(["kded5"], "kded5")
        self.wait_name("org.kde.StatusNotifierWatcher")
        self.start(["kwin_x11", "--replace"], "kwin")
        self.wait_name("org.kde.KWin")
        self.start(["ksmserver"], "ksmserver")  # org.freedesktop.ScreenSaver, with kscreenlocker
        self.wait_name("org.freedesktop.ScreenSaver")
        self.start(["plasmashell"], "plasmashell")
        self.wait_name("org.freedesktop.Notifications", 60)
        self.sni_host(60)
        self._watcher = LineReader(self.services.start(
            [sys.executable, str(SUPPORT / "kde_notification_watcher.py")], self.env, stdout=subprocess.PIPE,
            text=True))
        harness.wait_for(lambda: "ready" in self._watcher.lines, what="the KDE notification watcher")

    def notifications(self) -> list[dict]:
        shown = [json.loads(line) for line in self._watcher.lines if line.startswith("{")]
        return [{"title": n["summary"], "body": n["body"], "actions": list(n["actions"].values()), "id": n["id"],
                 "keys": n["actions"]} for n in shown]

    def popup_shown(self) -> bool:
        return self.painted(self._small_windows("plasmashell"))

    def press(self, label: str) -> None:
        """plasmashell's InvokeAction: what a click on the button does (it emits ActionInvoked)."""
        for notification in reversed(self.notifications()):
            for key, text in notification["keys"].items():
                if text == label:
                    gdbus(self.env, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                          "org.kde.NotificationManager.InvokeAction", str(notification["id"]), key)
                    return
        raise AssertionError(f"no button {label!r} in KDE's notifications")

    def notification_server_free(self, timeout: float = 20) -> float:
        """After a lock, kscreenlocker_greet takes PRIMARY and CLIPBOARD; plasmashell's clipboard engine
        then asks it for their formats, its main loop stopped until the greeter answers (Qt waits up to 5 s
        each). The call is asked once the greeter owns both, so that it queues behind that work."""
        started = time.monotonic()
        harness.wait_for(self._greeter_owns_the_selections, timeout=timeout, what="the greeter's clipboard")
        return time.monotonic() - started + super().notification_server_free(timeout)

    def _greeter_owns_the_selections(self) -> bool:
        return all(window and "kscreenlocker_greet" in name
                   for window, name in harness.selection_owners(self.env, "PRIMARY", "CLIPBOARD"))

    def unlock(self) -> None:
        """logind's Unlock, as `loginctl unlock-session` sends it: KDE's screen locker obeys it."""
        gdbus(self.env, "org.freedesktop.login1", "/org/freedesktop/login1/session/c1",
              "org.freedesktop.login1.Session.Unlock", bus="--system")


# --- XFCE ------------------------------------------------------------------------------------------

class Xfce(Shell):
    kind = "xfce"

    def __init__(self, name: str, base: Path, locker: str, locker_uid: int = 0) -> None:
        super().__init__(name, base)
        self.locker, self.locker_uid = locker, locker_uid
        self.env.update(XDG_CURRENT_DESKTOP="XFCE", XDG_SESSION_DESKTOP="xfce", DESKTOP_SESSION="xfce",
                        XDG_SESSION_TYPE="x11", LANG="C.UTF-8")
        if locker == "light-locker":  # what LightDM gives its sessions; light-locker will not start without
            self.env.update(XDG_SESSION_PATH="/org/freedesktop/DisplayManager/Session0",
                            XDG_SEAT_PATH="/org/freedesktop/DisplayManager/Seat0")

    def launch(self) -> None:
        self.session_bus()
        self.system_bus(*(["--lightdm"] if self.locker == "light-locker" else []))
        harness.start_keyring(self.services, self.env, log=self.log_file("keyring"))
        self.xvfb()
        self.activation_env("DISPLAY", "XDG_CURRENT_DESKTOP", "XDG_SESSION_TYPE", "HOME", "XDG_RUNTIME_DIR",
                            "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "NO_AT_BRIDGE")
        self.start(["xfwm4", "--replace"], "xfwm4")
        self.start(["xfce4-panel"], "panel")
        self.wait_name("org.xfce.Panel")
        self.sni_host()
        self.start(["xfce4-power-manager", "--no-daemon"], "power-manager")
        self.wait_name("org.xfce.PowerManager")
        # xfce4-notifyd's own log (its "Log" tab) lists what it showed, with each button: the test reads it.
        for prop, kind, value in (("/notification-log", "bool", "true"), ("/log-level", "uint", "1"),
                                  ("/log-level-apps", "uint", "0")):
            subprocess.run(["xfconf-query", "-c", "xfce4-notifyd", "-p", prop, "-n", "-t", kind, "-s", value],
                           env=self.env, check=True, timeout=10)
        gdbus(self.env, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
              "org.freedesktop.Notifications.GetServerInformation")  # activates xfce4-notifyd
        self.wait_name("org.freedesktop.Notifications")
        if self.locker == "xscreensaver":
            self.start_xscreensaver()
        else:
            self.start([*with_logind_seats(), "light-locker"], "light-locker")
            self.wait_name("org.freedesktop.ScreenSaver")

    def unlock(self) -> None:
        """light-locker's lock is LightDM's greeter: the password typed there (the stand-in's sign-in)."""
        gdbus(self.env, "org.freedesktop.DisplayManager", "/org/freedesktop/DisplayManager/Seat0",
              "org.vigie.Test.Greeter.GreeterSignIn", bus="--system")

    def greeter_in_front(self) -> bool:
        """Our session is no longer the seat's active one: LightDM's greeter shows (light-locker's lock)."""
        return "false" in gdbus(self.env, "org.freedesktop.login1", "/org/freedesktop/login1/session/c1",
                                "org.freedesktop.DBus.Properties.Get", "org.freedesktop.login1.Session", "Active",
                                bus="--system")

    def start_xscreensaver(self) -> None:
        """The daemon runs as a user of its own (locker_uid): it will not lock for root, as CI runs.
        Its settings, the same in its HOME and in the session's (where Vigie reads them): lock after
        5 minutes."""
        settings = "timeout: 0:05:00\nlock: True\nlockTimeout: 0:00:00\nsplash: False\n"
        (Path(self.env["HOME"]) / ".xscreensaver").write_text(settings)
        home = self.base / "xscreensaver-home"
        home.mkdir()
        (home / ".xscreensaver").write_text(settings)
        for path in (home, home / ".xscreensaver"):
            os.chown(path, self.locker_uid, self.locker_uid)
        env = {"DISPLAY": self.env["DISPLAY"], "HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        self.start(["setpriv", f"--reuid={self.locker_uid}", f"--regid={self.locker_uid}", "--clear-groups",
                    "xscreensaver", "-no-splash"], "xscreensaver", env=env)
        harness.wait_for(lambda: "since" in self.xscreensaver("-time"), what="the xscreensaver daemon")

    def notifications(self) -> list[dict]:
        import configparser

        log = Path(self.env["XDG_CACHE_HOME"]) / "xfce4/notifyd/log"
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str
        parser.read_string(log.read_text(encoding="utf-8") if log.exists() else "")
        shown = []
        for section in parser.sections():
            entry = parser[section]
            labels = [entry[key] for key in entry if key.startswith("action-label-")]
            shown.append({"title": entry.get("summary", ""), "body": entry.get("body", ""), "actions": labels})
        return shown

    def popup_shown(self) -> bool:
        return self.painted(self._small_windows("xfce4-notifyd"))

    def press(self, label: str) -> None:
        """A real click on the button of xfce4-notifyd's pop-up (it has no D-Bus way to press one): the
        pop-up's one button sits at its bottom right."""
        popups = self._small_windows("xfce4-notifyd")
        assert popups, "no xfce4-notifyd pop-up on screen"
        popup = popups[-1]
        x, y = popup["X"] + popup["WIDTH"] - 55, popup["Y"] + popup["HEIGHT"] - 31
        harness.xdo(self.env, "mousemove", str(x), str(y))
        harness.xdo(self.env, "click", "1")

    def xscreensaver(self, *args: str) -> str:
        out = subprocess.run(["xscreensaver-command", *args], env=self.env, capture_output=True, text=True,
                             timeout=10)
        return out.stdout + out.stderr


def with_logind_seats() -> list[str]:
    """light-locker follows logind's Lock and Unlock only where /run/systemd/seats exists (its test for a
    systemd machine). Where it does not, light-locker runs in a mount namespace of its own that has it."""
    if Path("/run/systemd/seats").is_dir() and not os.environ.get("VIGIE_TEST_SEATS_NAMESPACE"):
        return []
    return ["unshare", "--mount", "--propagation", "private", "--", sys.executable,
            str(SUPPORT / "with_logind_seats.py")]


def start_shell(name: str, base: Path, locker_uid: int = 0) -> Shell:
    started = time.monotonic()
    shell: Shell
    if name.startswith("gnome"):
        shell = Gnome(name, base, name.split("-")[1])
    elif name == "kde":
        shell = Kde(name, base)
    else:
        shell = Xfce(name, base, name.split("-", 1)[1], locker_uid)
    try:
        shell.launch()
    except BaseException:
        shell.close()
        raise
    shell.started_in = time.monotonic() - started
    return shell


def shell_logs(shell: Shell, tail: int = 1500) -> str:
    """The end of each component's log: what a failing test prints."""
    parts = []
    for log in sorted(shell.logs.glob("*.log")):
        parts.append(f"--- {log.name}\n{log.read_text(errors='replace')[-tail:]}")
    return "\n".join(parts)
