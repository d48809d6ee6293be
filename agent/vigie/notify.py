"""Notifier facade: desktop-notifier first (native, with buttons), then a fallback that can say whether
it showed something (plyer on Linux when a server owns the bus name; on Windows a balloon from the
notification area), the log last. "notification shown" is logged only after a backend proved it.

`send()` never blocks and never raises: notifications are queued to one worker thread that
runs an asyncio loop (desktop-notifier is async and needs a live loop for button callbacks).
Every attempt is bounded by a timeout, so a notification daemon that hangs costs seconds,
not the agent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vigie import APP_NAME
from vigie.bounded import bounded_call
from vigie.model import Severity

Icons = Mapping[Severity, Path]  # may write each file on first get() (vigie.app.NotificationIcons): ask late

log = logging.getLogger(__name__)
SEND_TIMEOUT = 5.0
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
    name: str

    async def send(self, notification: Notification) -> None: ...

    async def withdraw(self, tag: str) -> None: ...


class DesktopNotifierBackend:
    name = "desktop-notifier"

    def __init__(self, icons: Icons, on_action: Callable[[str], None]) -> None:
        from desktop_notifier import DesktopNotifier

        self._icons = icons  # each icon file is drawn when a notification first needs it
        # Every notification names its own icon; the default one is set with the first (see _icon).
        self._notifier = DesktopNotifier(app_name=APP_NAME, app_icon=None)
        self._on_action = on_action
        self._shown: dict[str, str] = {}  # tag -> desktop-notifier identifier

    async def send(self, notification: Notification) -> None:
        from desktop_notifier import Button as DnButton
        from desktop_notifier import Urgency

        buttons = [DnButton(title=b.label, identifier=b.action, on_pressed=self._callback(b.action))
                   for b in notification.buttons]
        dispatched = []  # desktop-notifier logs a failure and returns: only this callback proves delivery
        identifier = await asyncio.wait_for(
            self._notifier.send(title=notification.title, message=notification.body, buttons=buttons,
                                icon=self._icon(notification.severity),
                                urgency=Urgency.Critical if notification.critical or notification.insist
                                else Urgency.Normal,
                                on_dispatched=lambda: dispatched.append(True)),
            SEND_TIMEOUT,
        )
        if not dispatched:
            raise RuntimeError("not delivered (no notification service?)")
        if notification.tag:
            self._shown[notification.tag] = identifier

    async def warm_up(self) -> None:
        """Connect to the notification server and read what it can do, once, at the agent's start: the
        first notification (often one held behind the lock, due at the unlock) then costs one call, not
        five (connect, introspect, server information, capabilities, notify) to a desktop busy unlocking."""
        await asyncio.wait_for(self._notifier.get_capabilities(), SEND_TIMEOUT)

    async def withdraw(self, tag: str) -> None:
        identifier = self._shown.pop(tag, None)
        if identifier is None:
            return
        try:
            await asyncio.wait_for(self._notifier.clear(identifier), SEND_TIMEOUT)
        except KeyError:
            log.debug("notification %s was already closed", tag)  # desktop-notifier forgets closed ones

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

    async def send(self, notification: Notification) -> None:
        from plyer import notification as plyer_notification

        # plyer cannot tell whether anything was shown (on Linux it ignores notify-send's exit code).
        if self._server_present and not await asyncio.to_thread(self._server_present):
            raise RuntimeError("no notification server")

        def show() -> None:
            icon = self._icons.get(notification.severity)
            plyer_notification.notify(title=notification.title, message=notification.body, app_name=APP_NAME,
                                      app_icon=str(icon) if icon else "", timeout=10)

        # plyer blocks (and may run notify-send without a timeout): keep it off the loop, bounded.
        await asyncio.to_thread(bounded_call, show, SEND_TIMEOUT, "vigie-plyer")

    async def withdraw(self, tag: str) -> None:
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
        self._icons_lock = threading.Lock()  # notifications sent together: one makes the twin, the others wait

    async def send(self, notification: Notification) -> None:
        await asyncio.to_thread(self._show, notification)

    async def withdraw(self, tag: str) -> None:
        """A balloon cannot be taken back; it goes after BALLOON_SECONDS."""

    def _show(self, notification: Notification) -> None:
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
        self._warming: concurrent.futures.Future[None] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="vigie-notifier", daemon=True)
        self._thread.start()

    @classmethod
    def default(cls, icons: Icons, on_action: Callable[[str], None],
                server_present: Callable[[], bool] | None = None) -> Notifier:
        backends: list[Backend] = []
        try:
            backends.append(DesktopNotifierBackend(icons, on_action))
        except Exception as exc:  # missing module or platform support: the next backend will do
            log.warning("desktop-notifier unavailable: %s", exc)
        if sys.platform == "win32":  # plyer's own Windows path reports nothing: it would log "shown" regardless
            backends.append(WindowsBalloonBackend(icons))
        else:
            backends.append(PlyerBackend(icons, server_present))
        return cls(backends)

    def send(self, notification: Notification) -> None:
        asyncio.run_coroutine_threadsafe(self._deliver(notification), self._loop)

    def warm_up(self) -> None:
        """The first backend that can, gets ready for the first notification (in the background; a
        notification sent meanwhile waits for it, so that the server is never connected to twice)."""
        self._warming = asyncio.run_coroutine_threadsafe(self._warm_up(), self._loop)

    async def _warm_up(self) -> None:
        for backend in self.backends:
            if hasattr(backend, "warm_up"):
                try:
                    await backend.warm_up()
                    log.info("notifications: %s ready", backend.name)
                except Exception as exc:  # no server yet: the first notification will say so
                    log.info("notifications: %s not ready at start: %s: %s", backend.name, type(exc).__name__, exc)
                return

    def withdraw(self, tag: str) -> None:
        asyncio.run_coroutine_threadsafe(self._withdraw(tag), self._loop)

    async def _withdraw(self, tag: str) -> None:
        for backend in self.backends:
            try:
                await backend.withdraw(tag)
            except Exception as exc:
                log.warning("withdrawing a notification via %s failed: %s", backend.name, exc)

    async def _deliver(self, notification: Notification) -> None:
        if self._warming is not None:
            await asyncio.wrap_future(self._warming)  # never raises: _warm_up catches
        for backend in self.backends:
            try:
                await asyncio.wait_for(backend.send(notification), SEND_TIMEOUT + 1)
                log.info("notification shown via %s", backend.name)
                return
            except Exception as exc:
                log.warning("notification via %s failed: %s: %s", backend.name, type(exc).__name__, exc)
        # Last resort: the log. The title is ours (no personal data).
        log.warning("notification not shown (no notification service): %s", notification.title)

    def stop(self, timeout: float = 2.0) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
