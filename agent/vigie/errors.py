"""The root of every error Vigie raises on purpose.

`reason` is what the user reads: a translatable Text, rendered in their language where it is shown
(a notification, a window, the terminal). `log_detail` is the technical part, for the log only.
str(error) gives both, in English, for log lines. Subclasses whose cause is always the same carry
a fixed reason and take only the detail.
"""

from __future__ import annotations

from vigie.model import Text


class VigieError(Exception):
    def __init__(self, reason: Text, log_detail: str = "") -> None:
        message = reason.msgid.format(**reason.params) if reason.params else reason.msgid
        super().__init__(f"{message} ({log_detail})" if log_detail else message)
        self.reason = reason
        self.log_detail = log_detail
