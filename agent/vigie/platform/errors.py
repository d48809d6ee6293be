"""How a platform call says no: the errors every OS module raises, apart from the Platform contract
(base.py) so that a window's process, which runs a program or two through proc, does not load the whole
contract's data classes before it shows (issue 21). base.py re-exports them."""

from __future__ import annotations

from vigie.errors import VigieError


class PlatformError(VigieError):
    """Root of every error a platform call raises; `reason` is shown to the user (translated)."""


class NotSupported(PlatformError):
    """This OS, or this machine, cannot do that."""


class ToolMissing(PlatformError):
    """A program Vigie needs is not installed."""


class ToolTimeout(PlatformError):
    """A program did not answer in time; it was stopped."""


class ToolFailed(PlatformError):
    """A program ran but failed, or said something we cannot read."""


class LockUnproven(PlatformError):
    """The lock was asked for, but nothing showed the session locked within the time allowed."""
