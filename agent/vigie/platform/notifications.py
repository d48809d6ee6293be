"""Linux: notifications through the desktop's notification server (org.freedesktop.Notifications: dunst,
GNOME Shell, plasmashell, xfce4-notifyd), with jeepney's thread-safe router, the D-Bus library the lock
signals already use. desktop-notifier reaches the same server through dbus-fast on an asyncio loop, which
cost the resting agent about 4 MB (issue 21).

One connection to the session bus, opened at the agent's start (warm_up) and kept, server or not; opened
again only if the bus drops it. What the server can do is asked once it answers. The server's
ActionInvoked signal (a button clicked) is handed to `on_action` on a thread of our own; NotificationClosed
lets us forget a notification; when the server itself changes (restarted: it numbers from 1 again), every
number we kept is forgotten, so that a withdrawal never closes someone else's notification. Every call has
a timeout.
"""

from __future__ import annotations

import contextlib
import logging
import os
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
BUS, BUS_PATH = "org.freedesktop.DBus", "/org/freedesktop/DBus"
NOTIFY_SIGNATURE = "susssasa{sv}i"  # app, replaces id, icon, summary, body, actions, hints, expiry
URGENCY_NORMAL, URGENCY_CRITICAL = 1, 2
SERVER_DEFAULT_EXPIRY = -1
SIGNALS_KEPT = 64  # clicks waiting for on_action; more at once are dropped (jeepney drops them, too)
AUTH_TIMEOUT = 1.0  # the bus's own handshake: a local socket answers in under a millisecond


class ServerNotifications:
    """A vigie.notify backend: send() returns once the server gave the notification its number."""

    name = "notification-server"

    def __init__(self, icons: Mapping[Severity, Path], on_action: Callable[[str], None], timeout: float) -> None:
        self._icons = icons
        self._on_action = on_action
        self._timeout = timeout
        self._router = None  # jeepney.io.threading.DBusRouter, once connected
        self._connecting = threading.Lock()  # a call given up on by the Notifier may still be connecting
        self._capabilities: frozenset[str] | None = None  # None: not asked of this server yet
        self._signals: queue.Queue = queue.Queue(maxsize=SIGNALS_KEPT)
        self._lock = threading.Lock()  # the notifier's thread and the signal thread share the tables below
        self._actions: dict[int, frozenset[str]] = {}  # server's number -> the button actions it carries
        self._tags: dict[str, int] = {}  # our tag -> server's number
        threading.Thread(target=self._hear_signals, name="vigie-notification-signals", daemon=True).start()

    def warm_up(self) -> None:
        self._server_capabilities()

    def send(self, notification: Notification) -> None:
        actions = [word for button in notification.buttons for word in (button.action, button.label)]
        if actions and "actions" not in self._server_capabilities():
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
        with self._connecting:
            self._drop_connection()

    # The connection ---------------------------------------------------------------------------

    def _connected(self):
        """The router, connected to the bus and listening to the server's signals (a new one after
        _drop_connection). Kept whether or not a server answers: it is asked again at the next call."""
        from jeepney.io.threading import DBusRouter, open_dbus_connection

        with self._connecting:
            if self._router is not None:
                return self._router
            connection = open_dbus_connection(bus="SESSION", auth_timeout=min(AUTH_TIMEOUT, self._timeout))
            router = DBusRouter(connection)
            try:
                self._listen(router)
            except BaseException:
                _close(router)
                raise
            self._router = router
            return router

    def _drop_connection(self) -> None:
        router, self._router = self._router, None
        self._capabilities = None
        if router is not None:
            _close(router)

    def _listen(self, router) -> None:
        """The server's signals, and the bus saying the server changed hands (restarted, replaced)."""
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus
        from jeepney.io.threading import Proxy

        server = MatchRule(type="signal", interface=SERVICE, path=PATH)
        owner = MatchRule(type="signal", sender=BUS, interface=BUS, member="NameOwnerChanged", path=BUS_PATH)
        owner.add_arg_condition(0, SERVICE)
        for rule in (server, owner):
            router.filter(rule, queue=self._signals)  # ours first: nothing the bus sends after AddMatch is missed
            Proxy(message_bus, router, timeout=self._timeout).AddMatch(rule)

    def _server_capabilities(self) -> frozenset[str]:
        """What the server can do, asked once per server (a D-Bus error if none answers)."""
        if self._capabilities is None:
            (capabilities,) = self._call("GetCapabilities")
            log.info("notification server capabilities: %s", ", ".join(sorted(capabilities)))
            self._capabilities = frozenset(capabilities)
        return self._capabilities

    def _call(self, method: str, signature: str = "", body: tuple = ()) -> tuple:
        from jeepney.io.common import RouterClosed

        try:
            return self._call_on(self._connected(), method, signature, body)
        except (RouterClosed, ConnectionError):  # the bus dropped us between two notifications: once more
            with self._connecting:
                self._drop_connection()
            return self._call_on(self._connected(), method, signature, body)

    def _call_on(self, router, method: str, signature: str = "", body: tuple = ()) -> tuple:
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        message = new_method_call(DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE), method, signature, body)
        return tuple(unwrap_msg(router.send_and_get_reply(message, timeout=self._timeout)))

    # The signals, on our own thread: on_action never runs on jeepney's receiver --------------------

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
                self._forget(body[0])
        elif member == "NameOwnerChanged" and len(body) == 3 and body[0] == SERVICE:
            log.info("notification server %s", "gone" if not body[2] else "changed")
            with self._lock:  # a new server numbers from 1 again: our numbers would name its notifications
                self._actions.clear()
                self._tags.clear()
            self._capabilities = None

    def _forget(self, number: int) -> None:
        self._actions.pop(number, None)
        for tag in [tag for tag, kept in self._tags.items() if kept == number]:
            del self._tags[tag]


def _close(router) -> None:
    """The router's thread, then its connection. jeepney 0.9's threaded connection leaves its wake-up pipe
    open when closed: closed here, or each new connection would leak two descriptors."""
    router.close()
    connection = router.conn
    connection.close()
    for descriptor in (getattr(connection, "_stop_r", None), getattr(connection, "_stop_w", None)):
        if descriptor is not None:
            with contextlib.suppress(OSError):
                os.close(descriptor)
