"""A network namespace for the incident tests: veth0 (10.77.0.2/24, fd77::2/64) wired to a peer namespace
acting as the router (10.77.0.1, fd77::1), with IPv4 and IPv6 default routes.

Every command names a namespace: the machine's own network is never touched (the tests also compare
it before and after). Needs root, like the loop-device tests."""

from __future__ import annotations

import os
import subprocess


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


class Namespace:
    def __init__(self, tag: str = "t") -> None:
        self.name, self.peer = f"vigie-{tag}{os.getpid()}", f"vigie-{tag}r{os.getpid()}"
        self.prefix = ("ip", "netns", "exec", self.name)  # runs a program inside the namespace
        for ns in (self.name, self.peer):
            ip("netns", "add", ns)
        ip("-n", self.name, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0r", "netns", self.peer)
        for ns, dev, v4, v6 in ((self.name, "veth0", "10.77.0.2/24", "fd77::2/64"),
                                (self.peer, "veth0r", "10.77.0.1/24", "fd77::1/64")):
            ip("-n", ns, "addr", "add", v4, "dev", dev)
            ip("-n", ns, "addr", "add", v6, "dev", dev, "nodad")
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", dev, "up")
        ip("-n", self.name, "route", "add", "default", "via", "10.77.0.1")
        ip("-n", self.name, "-6", "route", "add", "default", "via", "fd77::1")

    def ip(self, *args: str) -> None:
        """`ip` inside the namespace (e.g. the cable pulled out: "link", "set", "veth0", "down")."""
        ip("-n", self.name, *args)

    def remove(self) -> None:
        for ns in (self.name, self.peer):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
