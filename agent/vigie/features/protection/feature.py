"""The protection feature (issue 20): passive checks, nothing to watch."""

from __future__ import annotations

from typing import ClassVar

from vigie.check import Check
from vigie.features.base import Feature
from vigie.features.protection.antivirus import AntivirusCheck
from vigie.features.protection.disk_encryption import DiskEncryptionCheck
from vigie.features.protection.firewall import FirewallCheck
from vigie.features.protection.os_support import OsSupportCheck


class ProtectionFeature(Feature):
    id: ClassVar[str] = "protection"
    checks: ClassVar[tuple[Check, ...]] = (DiskEncryptionCheck(), AntivirusCheck(), FirewallCheck(),
                                           OsSupportCheck())
