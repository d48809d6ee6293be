"""Notifier facade: the desktop's own notifications first (native, with buttons), then a fallback that
can say whether it showed something (plyer on Linux when a server owns the bus name; on Windows a balloon
from the notification area), the log last. "notification shown" is logged only after a backend proved it.

The native backend per OS: Linux talks to the notification server itself (vigie.platform.notifications,
on jeepney, already loaded for the lock signals); Windows and macOS go through desktop-notifier (WinRT
toasts, UNUserNotificationCenter). desktop-notifier's Linux path, dbus-fast on an asyncio loop, cost the
resting agent about 4 MB (issue 21: 48.8 MB with it, 44.6 without; PyGObject imports asyncio anyway).

`send()` never blocks and never raises: notifications are queued to one worker thread, in order.
Every attempt is bounded by a timeout, so a notification daemon that hangs costs seconds, not the agent.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vigie import APP_NAME
from vigie.bounded import CallTimeout, bounded_call
from vigie.model import Severity

Icons = Mapping[Severity, Path]  # may write each file on first get() (vigie.app.NotificationIcons): ask late

log = logging.getLogger(__name__)
SEND_TIMEOUT = 5.0
RESTING_SECONDS = 60.0  # a backend that did not answer in time is skipped this long
BALLOON_SECONDS = 10  # how long a Windows balloon's own notification-area icon stays


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # identifier handed back to on_action


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    severity: Severity = Severity.WARNING  # picks the icon, and the urgency when CRITICAL
    buttons: Sequence[Button] = field(default_factory=tuple)
    tag: str | None = None  # lets a later withdraw(tag) remove it from the screen
    insist: bool = False  # stays on screen until dismissed, like an urgent one (a warning put off too often)

    @property
    def critical(self) -> bool:
        return self.severity == Severity.CRITICAL


class Backend(Protocol):
    """send() returns once the notification is shown and raises otherwise; both may block (bounded by the
    Notifier). Optional: warm_up() (get ready at start) and close() (the agent stops)."""

    name: str

    def send(self, notification: Notification) -> None: ...

    def withdraw(self, tag: str) -> None: ...


class DesktopNotifierBackend:
    """Windows and macOS: desktop-notifier, which is async and needs a live loop for its button callbacks:
    the loop runs on a thread of its own, made with the backend."""

    name = "desktop-notifier"

    def __init__(self, icons: Icons, on_action: Callable[[str], None]) -> None:
        import asyncio

        from desktop_notifier import DesktopNotifier

        self._icons = icons  # each icon file is drawn when a notification first needs it
        # Every notification names its own icon; the default one is set with the first (see _icon).
        self._notifier = DesktopNotifier(app_name=APP_NAME, app_icon=None)
        self._on_action = on_action
        self._shown: dict[str, str] = {}  # tag -> desktop-notifier identifier
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="vigie-notifier-loop", daemon=True).start()

    def _run(self, coroutine: object) -> object:
        """Run `coroutine` on the backend's loop, at most SEND_TIMEOUT (asyncio.TimeoutError past it)."""
        import asyncio

        return asyncio.run_coroutine_threadsafe(asyncio.wait_for(coroutine, SEND_TIMEOUT),
                                                self._loop).result(SEND_TIMEOUT + 0.5)

    def send(self, notification: Notification) -> None:
        from desktop_notifier import Button as DnButton
        from desktop_notifier import Urgency

        buttons = [DnButton(title=b.label, identifier=b.action, on_pressed=self._callback(b.action))
                   for b in notification.buttons]
        dispatched = []  # desktop-notifier logs a failure and returns: only this callback proves delivery
        identifier = self._run(
            self._notifier.send(title=notification.title, message=notification.body, buttons=buttons,
                                icon=self._icon(notification.severity),
                                urgency=Urgency.Critical if notification.critical or notification.insist
                                else Urgency.Normal,
                                on_dispatched=lambda: dispatched.append(True)))
        if not dispatched:
            raise RuntimeError("not delivered (no notification service?)")
        if notification.tag:
            self._shown[notification.tag] = str(identifier)

    def warm_up(self) -> None:
        """Connect to the notification service and read what it can do, once, at the agent's start."""
        self._run(self._notifier.get_capabilities())

    def withdraw(self, tag: str) -> None:
        identifier = self._shown.pop(tag, None)
        if identifier is None:
            return
        try:
            self._run(self._notifier.clear(identifier))
        except KeyError:
            log.debug("notification %s was already closed", tag)  # desktop-notifier forgets closed ones

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _callback(self, action: str) -> Callable[[], None]:
        return lambda: self._on_action(action)

    def _icon(self, severity: Severity) -> object | None:  # a desktop_notifier.Icon
        from desktop_notifier import Icon

        if self._notifier.app_icon is None and (default := self._icons.get(Severity.OK)):
            self._notifier.app_icon = Icon(path=default)
        path = self._icons.get(severity)
        return Icon(path=path) if path else None


class PlyerBackend:
    name = "plyer"

    def __init__(self, icons: Icons, server_present: Callable[[], bool] | None = None) -> None:
        self._icons = icons
        self._server_present = server_present

    def send(self, notification: Notification) -> None:
        from plyer import notification as plyer_notification

        # plyer cannot tell whether anything was shown (on Linux it ignores notify-send's exit code).
        if self._server_present and not self._server_present():
            raise RuntimeError("no notification server")

        def show() -> None:
            icon = self._icons.get(notification.severity)
            plyer_notification.notify(title=notification.title, message=notification.body, app_name=APP_NAME,
                                      app_icon=str(icon) if icon else "", timeout=10)

        # plyer blocks (and may run notify-send without a timeout): bounded.
        bounded_call(show, SEND_TIMEOUT, "vigie-plyer")

    def withdraw(self, tag: str) -> None:
        """plyer cannot take a notification back; it expires on its own."""


class WindowsBalloonBackend:
    """Windows, when toasts fail (no registered AppUserModelID, or no WinRT as under Wine): a balloon
    from the notification area, through plyer's WindowsBalloonTip. That class loads its icon with
    LoadImage(IMAGE_ICON): it needs an .ico (a PNG is refused and nothing shows), so one is made beside
    each PNG. plyer's own notify() fires a thread and never reports failure; here send() returns only
    once Shell_NotifyIconW accepted the balloon, and raises otherwise."""

    name = "windows-balloon"

    def __init__(self, icons: Icons) -> None:
        self._pngs = icons
        self._icons: dict[Severity, Path | None] = {}  # the .ico twins, made when first needed
        # A step the Notifier gave up on may still be making a twin when the next asks: one makes it, others wait.
        self._icons_lock = threading.Lock()

    def withdraw(self, tag: str) -> None:
        """A balloon cannot be taken back; it goes after BALLOON_SECONDS."""

    def send(self, notification: Notification) -> None:
        from plyer.platforms.win.libs.balloontip import WindowsBalloonTip

        accepted = threading.Event()
        failures: list[BaseException] = []

        class Balloon(WindowsBalloonTip):
            def notify(self, title: str, message: str, app_name: str) -> None:
                super().notify(title, message, app_name)  # raises if Shell_NotifyIconW refused it
                accepted.set()

        icon = self._ico(notification.severity)

        def life() -> None:  # the balloon lives as long as this thread (plyer sleeps, then removes it)
            try:
                title, message = balloon_text(notification.title, notification.body)
                Balloon(title=title, message=message, app_name=APP_NAME, app_icon=str(icon) if icon else "",
                        timeout=BALLOON_SECONDS)
            except Exception as exc:  # "Could not load icon", "Shell_NotifyIconW failed."
                failures.append(exc)
                accepted.set()

        threading.Thread(target=life, name="vigie-balloon", daemon=True).start()
        if not accepted.wait(SEND_TIMEOUT):
            raise TimeoutError("the notification area did not answer")
        if failures:
            raise RuntimeError(f"balloon refused: {failures[0]}")


    def _ico(self, severity: Severity) -> Path | None:
        with self._icons_lock:
            if severity not in self._icons:
                png = self._pngs.get(severity)
                self._icons[severity] = ico_beside(png) if png else None
            return self._icons[severity]


# NOTIFYICONDATAW's fixed buffers, terminating NUL included: a longer text makes Shell_NotifyIconW's
# caller refuse the whole balloon (plyer: « string too long »).
BALLOON_TITLE_CHARS, BALLOON_TEXT_CHARS = 63, 255


def balloon_text(title: str, body: str) -> tuple[str, str]:
    """Title and text that fit a balloon. A title too long (a finding is often a whole sentence) becomes
    the text's first line under the title « Vigie »; a text too long ends with « … »."""
    if len(title) > BALLOON_TITLE_CHARS:
        title, body = APP_NAME, f"{title}\n{body}" if body else title
    if len(body) > BALLOON_TEXT_CHARS:
        body = body[:BALLOON_TEXT_CHARS - 1].rstrip() + "…"
    return title, body


def ico_beside(png: Path) -> Path | None:
    """The .ico twin of a notification PNG (Windows' LoadImage reads no PNG file), made once."""
    ico = png.with_suffix(".ico")
    partial = ico.with_name(ico.name + ".partial")
    try:
        from PIL import Image

        with Image.open(png) as image:
            image.save(partial, format="ICO", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64)])
        os.replace(partial, ico)  # whole or absent: a balloon shown meanwhile never loads half an icon
        return ico
    except (OSError, ValueError) as exc:
        log.warning("cannot make the notification icon %s: %s", ico, exc)
        return None


class Notifier:
    def __init__(self, backends: Sequence[Backend]) -> None:
        self.backends = list(backends)
        self._resting_until: dict[str, float] = {}  # backend name -> monotonic time it is tried again (worker)
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="vigie-notifier", daemon=True)
        self._thread.start()

    @classmethod
    def default(cls, icons: Icons, on_action: Callable[[str], None],
                server_present: Callable[[], bool] | None = None) -> Notifier:
        backends: list[Backend] = []
        try:
            backends.append(native_backend(icons, on_action))
        except Exception as exc:  # missing module or platform support: the next backend will do
            log.warning("native notifications unavailable: %s", exc)
        if sys.platform == "win32":  # plyer's own Windows path reports nothing: it would log "shown" regardless
            backends.append(WindowsBalloonBackend(icons))
        else:
            backends.append(PlyerBackend(icons, server_present))
        return cls(backends)

    def send(self, notification: Notification) -> None:
        self._jobs.put(lambda: self._deliver(notification))

    def warm_up(self) -> None:
        """The first backend that can gets ready for the first notification (in the background; the queue
        keeps a notification sent meanwhile behind it)."""
        self._jobs.put(self._warm_up)

    def withdraw(self, tag: str) -> None:
        self._jobs.put(lambda: self._withdraw(tag))

    def stop(self, timeout: float = 2.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)
        for backend in self.backends:
            if hasattr(backend, "close"):
                backend.close()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:  # each step catches what a backend raises: this is a bug, the worker goes on
                log.exception("notifier: unexpected error")

    def _bounded(self, backend: Backend, step: Callable[[], None], set_aside: bool = True) -> None:
        """One step of `backend`, at most SEND_TIMEOUT + 1 s. A backend that let a step run out is skipped for
        RESTING_SECONDS (set_aside): notifications queued behind a hung server go to the next backend at once,
        not 6 s apart (the idle lock's « Verrouillage dans 60 s » must not come late)."""
        if time.monotonic() < self._resting_until.get(backend.name, 0.0):
            raise RuntimeError(f"not tried: it did not answer in time less than {RESTING_SECONDS:g} s ago")
        try:
            bounded_call(step, SEND_TIMEOUT + 1, f"vigie-notify-{backend.name}")
        except CallTimeout:
            if set_aside:
                self._resting_until[backend.name] = time.monotonic() + RESTING_SECONDS
            raise

    def _warm_up(self) -> None:
        for backend in self.backends:
            if hasattr(backend, "warm_up"):
                try:  # not set aside: a server still starting with the session is tried again at once
                    self._bounded(backend, backend.warm_up, set_aside=False)
                    log.info("notifications: %s ready", backend.name)
                except Exception as exc:  # no server yet: the first notification will say so
                    log.info("notifications: %s not ready at start: %s: %s", backend.name, type(exc).__name__, exc)
                return

    def _withdraw(self, tag: str) -> None:
        for backend in self.backends:
            try:
                self._bounded(backend, lambda b=backend: b.withdraw(tag))
            except Exception as exc:
                log.warning("withdrawing a notification via %s failed: %s", backend.name, exc)

    def _deliver(self, notification: Notification) -> None:
        for backend in self.backends:
            try:
                self._bounded(backend, lambda b=backend: b.send(notification))
                log.info("notification shown via %s", backend.name)
                return
            except Exception as exc:
                log.warning("notification via %s failed: %s: %s", backend.name, type(exc).__name__, exc)
        # Last resort: the log. The title is ours (no personal data).
        log.warning("notification not shown (no notification service): %s", notification.title)


def native_backend(icons: Icons, on_action: Callable[[str], None]) -> Backend:
    """This OS's own notifications, with buttons."""
    if sys.platform.startswith("linux"):
        from vigie.platform.notifications import ServerNotifications

        return ServerNotifications(icons, on_action, SEND_TIMEOUT)
    return DesktopNotifierBackend(icons, on_action)
