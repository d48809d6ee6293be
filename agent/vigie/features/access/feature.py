"""The access feature: who can get into this computer, and how. Four passive checks, nothing to watch."""

from __future__ import annotations

from typing import ClassVar

from vigie.check import Check
from vigie.features.access.password_manager import PasswordManagerCheck
from vigie.features.access.remote_access import RemoteAccessCheck
from vigie.features.access.sign_in import SignInCheck
from vigie.features.access.wifi_security import WifiSecurityCheck
from vigie.features.base import Feature


class AccessFeature(Feature):
    id: ClassVar[str] = "access"
    checks: ClassVar[tuple[Check, ...]] = (RemoteAccessCheck(), SignInCheck(), WifiSecurityCheck(),
                                           PasswordManagerCheck())
