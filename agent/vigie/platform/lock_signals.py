"""Linux: hear the lock end the moment the desktop says it, instead of polling once a minute.

Three kinds of messengers, each on its own daemon thread, each optional:
- the desktop screen savers' `ActiveChanged(b)` signal (GNOME Shell, KDE's ksmserver, light-locker,
  MATE), on the session bus;
- logind's `PropertiesChanged` for our session's `LockedHint` (the desktops that set it) and `Active`
  (false while the display manager's login screen is in front: light-locker's lock), on the system bus;
- `xscreensaver-command -watch` (xscreensaver has no D-Bus signal): started by the platform after a
  lock made through xscreensaver, it prints UNBLANK when the user unlocks.
A messenger that cannot start (no bus, no logind session) is logged once and retried slowly: the idle
watch still polls, so nothing depends on it but the speed.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)
RETRY_SECONDS = 30.0
LOGIND_SESSION = "org.freedesktop.login1.Session"


def _listen(bus: str, rules: Sequence[object], on_signal: Callable[[object], None], stop: threading.Event) -> None:
    """Subscribe to `rules` on `bus` and hand each matching signal to `on_signal`, until the bus goes."""
    from jeepney import MessageType
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus=bus, auth_timeout=2.0) as connection:
        for rule in rules:
            connection.send_and_get_reply(message_bus.AddMatch(rule), timeout=2.0)
        while not stop.is_set():
            try:
                message = connection.receive(timeout=5.0)
            except TimeoutError:
                continue
            if message.header.message_type == MessageType.signal:
                on_signal(message)


def _keep_listening(name: str, start: Callable[[], None], stop: threading.Event) -> None:
    failures = 0
    while not stop.is_set():
        try:
            start()
        except Exception as exc:  # no bus, bus gone, no logind session: the watch still polls
            failures += 1
            if failures == 1:
                log.info("%s: no unlock signal (%s: %s); retrying every %g s", name, type(exc).__name__, exc,
                         RETRY_SECONDS)
        stop.wait(RETRY_SECONDS)


class LockSignals:
    """Calls `on_change(locked, source)` whenever a screen saver or logind says the lock began or ended."""

    def __init__(self, screensavers: Sequence[tuple[str, str, str]], session_path: Callable[[], str],
                 on_change: Callable[[bool, str], None]) -> None:
        self._interfaces = tuple(interface for _service, _path, interface in screensavers)
        self._session_path = session_path
        self._on_change = on_change
        self._stop = threading.Event()

    def start(self) -> None:
        for name, target in (("screen saver signals", self._session_bus), ("logind signals", self._system_bus)):
            threading.Thread(target=_keep_listening, args=(name, target, self._stop), name="vigie-lock-signals",
                             daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _session_bus(self) -> None:
        from jeepney.bus_messages import MatchRule
        from jeepney.low_level import HeaderFields

        rules = [MatchRule(type="signal", interface=name, member="ActiveChanged") for name in self._interfaces]

        def heard(message) -> None:
            if message.body and isinstance(message.body[0], bool):
                self._on_change(message.body[0], f"{message.header.fields.get(HeaderFields.interface)} ActiveChanged")

        _listen("SESSION", rules, heard, self._stop)

    def _system_bus(self) -> None:
        from jeepney.bus_messages import MatchRule

        path = self._session_path()
        rule = MatchRule(type="signal", interface="org.freedesktop.DBus.Properties", member="PropertiesChanged",
                         path=path)

        def heard(message) -> None:
            interface, changed = message.body[0], message.body[1]
            if interface != LOGIND_SESSION:
                return
            if "LockedHint" in changed:
                self._on_change(bool(changed["LockedHint"][1]), "logind LockedHint")
            if "Active" in changed:  # the login screen (light-locker's lock) left, or came in front
                self._on_change(not changed["Active"][1], "logind Active")

        _listen("SYSTEM", [rule], heard, self._stop)


class XScreenSaverWatch:
    """`xscreensaver-command -watch` after a lock xscreensaver holds: UNBLANK is the user's return.
    Ends by itself then; stop() ends it earlier (Vigie quits, another lock replaces it)."""

    def __init__(self, on_unblank: Callable[[], None]) -> None:
        self.process = subprocess.Popen(["xscreensaver-command", "-watch"], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, args=(on_unblank,), name="vigie-xscreensaver-watch", daemon=True).start()

    def _read(self, on_unblank: Callable[[], None]) -> None:
        for line in self.process.stdout or ():
            if line.startswith("UNBLANK"):
                self.stop()
                on_unblank()
                break
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
