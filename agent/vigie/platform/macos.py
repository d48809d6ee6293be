"""macOS: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import platform

from vigie.model import T
from vigie.platform import parsers, proc
from vigie.platform.base import Capability, ToolFailed, UpdateStatus

_NO_UPDATES = "No new software available"


def softwareupdate_list(timeout: float) -> tuple[str, str]:
    result = proc.run(["softwareupdate", "-l"], timeout)
    return result.stdout, result.stderr


def current_major() -> int | None:
    release = platform.mac_ver()[0]
    return int(release.split(".")[0]) if release else None


class MacPlatform:
    name = "macos"

    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.PENDING_UPDATES})

    def pending_updates(self, timeout: float) -> UpdateStatus:
        stdout, stderr = softwareupdate_list(timeout)
        updates = parsers.parse_softwareupdate(stdout, current_major())
        # "No new software available." arrives on stderr; anything else with no list is a failure.
        if not updates and "* Label:" not in stdout and _NO_UPDATES not in stderr:
            raise ToolFailed(T("The update list from macOS could not be read."), stderr.strip()[-300:])
        return UpdateStatus("softwareupdate", tuple(updates))
