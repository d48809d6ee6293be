"""Volume watch: turns mount changes into VolumeAdded / VolumeRemoved events for removable media.

Threading rules: run() is the watcher thread's body (a daemon: it may block in the kernel for
ever while nothing is plugged in). On Linux it sleeps in poll() on /proc/self/mountinfo, so it
does not wake up at all while no device changes; where the OS offers no such event it compares
snapshots every POLL_SECONDS.

Every mount change it sees gives one event, and the journal one row: it only submits, and a look
is quick (the platform identifies new mounts only). A mount that came and went between two looks
cannot be identified any more; Linux still tells it happened: that gives MountChangeUnseen.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from vigie.events import Event, MountChangeUnseen, VolumeAdded, VolumeRemoved
from vigie.platform.base import MountChange, NotSupported, Platform, PlatformError, Volume

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0


class VolumeWatcher:
    def __init__(self, platform: Platform, submit: Callable[[Event], None]) -> None:
        self.platform = platform
        self.submit = submit
        self._stop = threading.Event()
        self._known: dict[tuple[str, str, str], Volume] = {}

    def run(self) -> None:
        self._arm()
        try:
            self._known = self._removable()
        except NotSupported as exc:
            log.warning("volume watch unavailable: %s", exc)
            return
        log.info("volume watch: started with %d removable volume(s) mounted", len(self._known))
        while not self._stop.is_set():
            change = self._wait()
            if self._stop.is_set():
                break
            if change is MountChange.UNSEEN:
                log.warning("volume watch: mounts changed and changed back before they could be read")
                self.submit(MountChangeUnseen())
            self._compare()

    def stop(self) -> None:
        self._stop.set()

    def _arm(self) -> None:
        """Start hearing mount changes before the first look: a stick mounted between that look and the
        first wait would otherwise be in neither (the wait's own first read holds it, so it waits for the
        next change), and go unseen until unplugged (a test run lost one so)."""
        with contextlib.suppress(NotSupported):  # polled: each look compares with the one before
            self.platform.wait_for_mount_change(0)

    def _wait(self) -> MountChange:
        try:
            return MountChange(self.platform.wait_for_mount_change(None))
        except NotSupported:
            self._stop.wait(POLL_SECONDS)
            return MountChange.CHANGED  # nobody says: look anyway

    def _compare(self) -> None:
        try:
            current = self._removable()
        except PlatformError as exc:
            log.warning("volume list unavailable: %s", exc)
            return
        for key in current.keys() - self._known.keys():
            self.submit(VolumeAdded(current[key]))
        for key in self._known.keys() - current.keys():
            self.submit(VolumeRemoved(self._known[key]))
        self._known = current

    def _removable(self) -> dict[tuple[str, str, str], Volume]:
        # With the mount id: a stick unmounted and mounted again between two looks is a removal and an
        # insertion, not nothing (CI lost such a pair in silence).
        return {(v.device, v.mount_point, v.mount_id): v for v in self.platform.mounted_volumes() if v.removable}
