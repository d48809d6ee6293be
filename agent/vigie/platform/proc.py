"""Run a program with a hard timeout. No shell, ever; the whole process group dies on timeout."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vigie.model import T
from vigie.platform.base import ToolFailed, ToolMissing, ToolTimeout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def run(
    argv: Sequence[str],
    timeout: float,
    *,
    ok_codes: Sequence[int] = (0,),
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    cwd: str | None = None,
) -> Result:
    """Run argv and return its output; raise ToolMissing, ToolTimeout or ToolFailed."""
    tool = os.path.basename(argv[0])
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # so a timeout can kill the children it spawned too
        )
    except FileNotFoundError as exc:
        raise ToolMissing(T("The program {tool} is not installed.", tool=tool), str(exc)) from exc
    except OSError as exc:
        raise ToolFailed(T("The program {tool} could not be started.", tool=tool), str(exc)) from exc
    try:
        stdout, stderr = proc.communicate(stdin_text, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc)
        raise ToolTimeout(
            T("The program {tool} did not answer within {seconds} seconds.", tool=tool, seconds=round(timeout)),
            f"argv={list(argv)!r}",
        ) from exc
    if proc.returncode not in ok_codes:
        log.warning("%s exited with %s: %s", tool, proc.returncode, stderr.strip()[-500:])
        raise ToolFailed(
            T("The program {tool} failed (code {code}).", tool=tool, code=proc.returncode),
            stderr.strip()[-500:],
        )
    return Result(proc.returncode, stdout, stderr)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()  # Windows has no process groups in this sense
    proc.communicate()
