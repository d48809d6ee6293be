"""Linux: notifications through the desktop's notification server (org.freedesktop.Notifications: dunst,
GNOME Shell, plasmashell, xfce4-notifyd), with jeepney's thread-safe router, the D-Bus library the lock
signals already use. desktop-notifier reaches the same server through dbus-fast on an asyncio loop, which
cost the resting agent about 4 MB (issue 21).

One connection, opened at the agent's start (warm_up) and again if the bus drops it. The server's
ActionInvoked signal (a button clicked) is handed to `on_action` on a thread of our own; the server's
NotificationClosed lets us forget a notification. Every call has a timeout.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from vigie import APP_NAME
from vigie.model import Severity

if TYPE_CHECKING:
    from vigie.notify import Notification

log = logging.getLogger(__name__)
SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
NOTIFY_SIGNATURE = "susssasa{sv}i"  # app, replaces id, icon, summary, body, actions, hints, expiry
URGENCY_NORMAL, URGENCY_CRITICAL = 1, 2
SERVER_DEFAULT_EXPIRY = -1
SIGNALS_KEPT = 64  # clicks waiting for on_action; more at once are dropped (jeepney drops them, too)


class ServerNotifications:
    """A vigie.notify backend: send() returns once the server gave the notification its number."""

    name = "notification-server"

    def __init__(self, icons: Mapping[Severity, Path], on_action: Callable[[str], None], timeout: float) -> None:
        self._icons = icons
        self._on_action = on_action
        self._timeout = timeout
        self._router = None  # jeepney.io.threading.DBusRouter, once connected
        self._capabilities: frozenset[str] = frozenset()
        self._signals: queue.Queue = queue.Queue(maxsize=SIGNALS_KEPT)
        self._lock = threading.Lock()  # the notifier's thread and the signal thread share the tables below
        self._actions: dict[int, frozenset[str]] = {}  # server's id -> the button actions it carries
        self._tags: dict[str, int] = {}  # our tag -> server's id
        threading.Thread(target=self._hear_signals, name="vigie-notification-signals", daemon=True).start()

    def warm_up(self) -> None:
        self._connected()

    def send(self, notification: Notification) -> None:
        actions = [word for button in notification.buttons for word in (button.action, button.label)]
        if actions and "actions" not in self._connected_capabilities():
            log.info("the notification server shows no buttons: sent without them")
            actions = []
        icon = self._icons.get(notification.severity)
        urgent = notification.critical or notification.insist
        (number,) = self._call("Notify", NOTIFY_SIGNATURE, (
            APP_NAME, 0, icon.as_uri() if icon else "", notification.title, notification.body, actions,
            {"urgency": ("y", URGENCY_CRITICAL if urgent else URGENCY_NORMAL)}, SERVER_DEFAULT_EXPIRY))
        with self._lock:
            self._actions[number] = frozenset(actions[::2])
            if notification.tag:
                self._tags[notification.tag] = number

    def withdraw(self, tag: str) -> None:
        with self._lock:
            number = self._tags.pop(tag, None)
        if number is None:
            return
        from jeepney import DBusErrorResponse

        try:
            self._call("CloseNotification", "u", (number,))
        except DBusErrorResponse as exc:  # closed meanwhile: the spec lets a server answer so
            log.debug("notification %s was already closed: %s", tag, exc)

    def close(self) -> None:
        router, self._router = self._router, None
        if router is not None:
            router.close()
            router.conn.close()

    # The connection ---------------------------------------------------------------------------

    def _connected(self):
        """The router, connected and listening to the server's signals (_call makes a new one if the bus
        dropped ours)."""
        from jeepney.io.threading import DBusRouter, open_dbus_connection

        if self._router is not None:
            return self._router
        connection = open_dbus_connection(bus="SESSION", auth_timeout=self._timeout)
        router = DBusRouter(connection)
        try:
            self._listen(router)
            self._capabilities = self._ask_capabilities(router)
        except BaseException:
            router.close()
            connection.close()
            raise
        self._router = router
        return router

    def _listen(self, router) -> None:
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus
        from jeepney.io.threading import Proxy

        rule = MatchRule(type="signal", interface=SERVICE, path=PATH)
        Proxy(message_bus, router, timeout=self._timeout).AddMatch(rule)
        router.filter(rule, queue=self._signals)

    def _ask_capabilities(self, router) -> frozenset[str]:
        (capabilities,) = self._call_on(router, "GetCapabilities")
        log.info("notification server capabilities: %s", ", ".join(sorted(capabilities)))
        return frozenset(capabilities)

    def _connected_capabilities(self) -> frozenset[str]:
        self._connected()
        return self._capabilities

    def _call(self, method: str, signature: str = "", body: tuple = ()) -> tuple:
        from jeepney.io.common import RouterClosed

        try:
            return self._call_on(self._connected(), method, signature, body)
        except (RouterClosed, ConnectionError):  # the bus dropped us between two notifications: once more
            self.close()
            return self._call_on(self._connected(), method, signature, body)

    def _call_on(self, router, method: str, signature: str = "", body: tuple = ()) -> tuple:
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        message = new_method_call(DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE), method, signature, body)
        return tuple(unwrap_msg(router.send_and_get_reply(message, timeout=self._timeout)))

    # The server's signals, on our own thread: on_action never runs on jeepney's receiver ----------

    def _hear_signals(self) -> None:
        while True:
            message = self._signals.get()
            try:
                self._heard(message.header.fields, message.body)
            except Exception:  # a malformed signal from another program on the bus: logged, the next one heard
                log.exception("notification signal not understood")

    def _heard(self, fields: Mapping, body: tuple) -> None:
        from jeepney.low_level import HeaderFields

        member = fields.get(HeaderFields.member)
        if member == "ActionInvoked" and len(body) == 2:
            number, action = body
            with self._lock:
                ours = action in self._actions.pop(number, frozenset())
            if ours:
                self._on_action(action)
        elif member == "NotificationClosed" and body:
            with self._lock:
                self._actions.pop(body[0], None)
                for tag in [tag for tag, number in self._tags.items() if number == body[0]]:
                    del self._tags[tag]
