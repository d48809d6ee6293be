"""Giving the memory freed after start-up back to the OS.

Start-up allocates and frees a lot (imports, the first checks, the settings' JSON); glibc keeps the
freed pages in its heap, so they stay in the agent's resident size for the whole session. malloc_trim
returns them: about 1.3 MB of USS measured on the resting agent (bench/ratios.py, issue 21); gc.freeze
measured no gain and is not used. Other C libraries (musl, Windows, macOS): nothing to do here.
"""

from __future__ import annotations

import gc
import logging
import sys

log = logging.getLogger(__name__)


def release_free_memory() -> bool:
    """Collect Python's garbage, then hand glibc's free heap pages back; True if some were."""
    gc.collect()
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError) as exc:  # no glibc (musl has no malloc_trim)
        log.debug("malloc_trim unavailable: %s", exc)
        return False
