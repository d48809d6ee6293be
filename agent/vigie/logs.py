"""Rotating log file in the platform's log directory. Never personal data in it."""

from __future__ import annotations

import logging
import os
import sys

from vigie import paths

LOG_FILE = "vigie.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class AppendHandler(logging.FileHandler):
    """Opens the log, appends one record, closes it: a window never holds the file the agent rotates
    (Windows refuses to rename a file another process has open; on Linux a window open for hours would
    go on writing into the renamed vigie.log.1)."""

    def __init__(self, path: os.PathLike[str]) -> None:
        super().__init__(path, encoding="utf-8", delay=True)

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        with self.lock:  # type: ignore[union-attr]
            if self.stream is not None:
                self.stream.close()
                self.stream = None  # type: ignore[assignment]


def setup_logging(verbose: bool = False, rotate: bool = True) -> None:
    """rotate=False for the windows' processes: they only append (AppendHandler), and leave the rotation to
    the agent and the CLI (and logging.handlers costs a pop-up 0.5 MB)."""
    root = logging.getLogger()
    if any(getattr(h, "vigie", False) for h in root.handlers):
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler: logging.Handler
    try:
        directory = paths.private_dir(paths.log_dir())
        path = directory / LOG_FILE
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        if rotate:
            from logging.handlers import RotatingFileHandler

            handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        else:
            handler = AppendHandler(path)
    except OSError as exc:  # a read-only home must not stop the agent
        handler = logging.StreamHandler(sys.stderr)
        print(f"Vigie : journal technique indisponible ({exc}).", file=sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.vigie = True  # type: ignore[attr-defined]
    root.addHandler(handler)
