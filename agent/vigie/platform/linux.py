"""Linux: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import os
import shutil

from vigie.model import T
from vigie.platform import parsers, proc
from vigie.platform.base import Capability, NotSupported, PendingUpdate, UpdateStatus

# apt and dnf output is parsed, so it must not be translated. APT_CONFIG and the rest of the
# caller's environment are kept: an IT provider (or a test) may point apt at its own config.
_C_LOCALE = {"LC_ALL": "C.UTF-8", "LANGUAGE": ""}


def _tool_env() -> dict[str, str]:
    return {**os.environ, **_C_LOCALE}


def apt_simulate_upgrade(timeout: float) -> str:
    # Debug::NoLocking: a simulation needs no lock, so Vigie runs as the user and never waits on dpkg.
    argv = ["apt-get", "-s", "-q", "-o", "Debug::NoLocking=true", "upgrade"]
    return proc.run(argv, timeout, env=_tool_env()).stdout


def dnf_check_update(timeout: float) -> str:
    # -C: use the metadata the system already has; Vigie itself never goes to the network.
    return proc.run(["dnf", "-q", "-C", "check-update"], timeout, ok_codes=(0, 100), env=_tool_env()).stdout


def dnf_security_list(timeout: float) -> str:
    argv = ["dnf", "-q", "-C", "updateinfo", "list", "--available", "--security"]
    return proc.run(argv, timeout, env=_tool_env()).stdout


class LinuxPlatform:
    name = "linux"

    def capabilities(self) -> frozenset[Capability]:
        caps = set()
        if shutil.which("apt-get") or shutil.which("dnf"):
            caps.add(Capability.PENDING_UPDATES)
        return frozenset(caps)

    def pending_updates(self, timeout: float) -> UpdateStatus:
        if shutil.which("apt-get"):
            updates = parsers.parse_apt_simulate(apt_simulate_upgrade(timeout))
            return UpdateStatus("apt", tuple(updates))
        if shutil.which("dnf"):
            return self._dnf_pending(timeout)
        raise NotSupported(T("No supported package manager (apt or dnf) was found."))

    @staticmethod
    def _dnf_pending(timeout: float) -> UpdateStatus:
        rows = parsers.parse_dnf_check_update(dnf_check_update(timeout))
        security = parsers.parse_dnf_security_names(dnf_security_list(timeout)) if rows else set()
        updates = tuple(PendingUpdate(name, version, name in security) for name, version in rows)
        return UpdateStatus("dnf", updates)
