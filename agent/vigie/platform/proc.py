"""Run a program with a hard timeout. No shell, ever.

Each program runs in its own process group (its own session on POSIX), and whatever ends it early
ends the whole group, not only the program: a timeout, Ctrl-C, a SIGTERM turned into SystemExit
(end_programs_on_termination) or the agent's stop (stop_all). The group gets SIGTERM, then SIGKILL
after a short grace. Windows has no such groups: the program's tree is ended with `taskkill /T`
(the one OS call, in _signal_group).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vigie.model import T
from vigie.platform.errors import ToolFailed, ToolMissing, ToolTimeout

log = logging.getLogger(__name__)
GRACE_SECONDS = 2.0  # between SIGTERM and SIGKILL: time to remove a lock or a temporary file
DRAIN_SECONDS = 5.0  # reading what an ended program left in its pipes
POLL_SECONDS = 0.05

_lock = threading.Lock()
_ended = threading.Condition(_lock)  # notified each time a program is forgotten
_running: set[subprocess.Popen[str]] = set()
_stopping = False  # stop_all() was called: this process is quitting, no new program starts


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
    return _finish(_start(argv, tool, env, stdin_text, cwd), tool, timeout, ok_codes, stdin_text)


def adopt(proc: subprocess.Popen[str], timeout: float, ok_codes: Sequence[int] = (0,)) -> Result:
    """run() for a program started earlier by plain subprocess (in its own session, text pipes, no
    stdin): the agent starts its settings child before importing this module (vigie.launch)."""
    with _lock:
        _running.add(proc)
        stopping = _stopping
    if stopping:
        end_process_group(proc)
        _forget(proc)
        raise ToolFailed(T("The program {tool} was stopped: Vigie is quitting.", tool=os.path.basename(proc.args[0])))
    return _finish(proc, os.path.basename(proc.args[0]), timeout, ok_codes, None)


def _finish(proc: subprocess.Popen[str], tool: str, timeout: float, ok_codes: Sequence[int],
            stdin_text: str | None) -> Result:
    argv = proc.args
    try:
        stdout, stderr = proc.communicate(stdin_text, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        log.warning("%s did not answer within %s s: ending its process group", tool, timeout)
        end_process_group(proc)
        raise ToolTimeout(
            T("The program {tool} did not answer within {seconds} seconds.", tool=tool, seconds=round(timeout)),
            f"argv={list(argv)!r}",
        ) from exc
    except BaseException:  # Ctrl-C, or SIGTERM as SystemExit: the program must not outlive its caller
        end_process_group(proc)
        raise
    finally:
        _forget(proc)
    if proc.returncode not in ok_codes:
        if _stopping:
            raise ToolFailed(T("The program {tool} was stopped: Vigie is quitting.", tool=tool),
                             f"code {proc.returncode}")
        log.warning("%s exited with %s: %s", tool, proc.returncode, stderr.strip()[-500:])
        raise ToolFailed(
            T("The program {tool} failed (code {code}).", tool=tool, code=proc.returncode),
            stderr.strip()[-500:],
        )
    return Result(proc.returncode, stdout, stderr)


def _start(argv: Sequence[str], tool: str, env: Mapping[str, str] | None, stdin_text: str | None,
           cwd: str | None) -> subprocess.Popen[str]:
    with _lock:  # so that stop_all() sees every program started before it, and none after
        if _stopping:
            raise ToolFailed(T("The program {tool} was not started: Vigie is quitting.", tool=tool))
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
                start_new_session=True,  # its own group: ending it ends what it started too
            )
        except FileNotFoundError as exc:
            raise ToolMissing(T("The program {tool} is not installed.", tool=tool), str(exc)) from exc
        except OSError as exc:
            raise ToolFailed(T("The program {tool} could not be started.", tool=tool), str(exc)) from exc
        _running.add(proc)
        return proc


def _forget(proc: subprocess.Popen[str]) -> None:
    with _lock:
        _running.discard(proc)
        _ended.notify_all()


def end_process_group(proc: subprocess.Popen[str], grace: float = GRACE_SECONDS) -> None:
    """Called by the thread that started proc: SIGTERM to its whole group, SIGKILL to whatever is
    left after grace, then reap it. Reading its pipes is bounded too: a process that left the group
    may still hold them."""
    _signal_group(proc.pid, hard=False)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()  # reap the program itself, so only the rest of its group keeps the group alive
        if not _group_exists(proc):
            break
        time.sleep(POLL_SECONDS)
    _signal_group(proc.pid, hard=True)
    try:
        proc.communicate(timeout=DRAIN_SECONDS)
    except subprocess.TimeoutExpired:
        log.error("%s: a process outside its group still holds its output; no longer waiting for it", proc.args[0])
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(DRAIN_SECONDS)


def stop_all(grace: float = GRACE_SECONDS) -> None:
    """This process is quitting (the agent's Quit or SIGTERM): end every program still running, with
    its group, and start no new one. Returns once their callers have reaped them, or after a bound."""
    global _stopping
    with _lock:
        _stopping = True
        running = list(_running)
    if not running:
        return
    log.info("stopping %d running program(s)", len(running))
    for proc in running:
        _signal_group(proc.pid, hard=False)
    deadline = time.monotonic() + grace
    while any(_group_exists(p) for p in running) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    for proc in running:
        _signal_group(proc.pid, hard=True)
    with _lock:
        _ended.wait_for(lambda: not _running.intersection(running), timeout=DRAIN_SECONDS)


def stopping() -> bool:
    """stop_all() was called: this process is quitting."""
    return _stopping


def end_programs_on_termination() -> None:
    """For a command-line run: SIGTERM or SIGHUP (a script's or an RMM's time limit, a closed
    terminal) unwinds like Ctrl-C, so the program run() waits on is ended with its group instead of
    being left behind in its own session."""
    if os.name == "nt":
        return  # a terminated Windows process runs no code at all
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)


def _exit_on_signal(signum: int, _frame: object) -> None:
    for ignored in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(ignored, signal.SIG_IGN)  # a second signal must not interrupt the clean-up
    raise SystemExit(128 + signum)


# --- the OS call -----------------------------------------------------------------------------------

def _signal_group(pid: int, hard: bool) -> None:
    """Ask (hard=False) or force (hard=True) every process of the group led by pid to end.
    Windows: console programs have no polite request, so only the forced end exists (`taskkill /T`
    walks the tree from pid, which is still alive then)."""
    if os.name == "nt":
        if hard:
            _taskkill_tree(pid)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL if hard else signal.SIGTERM)


def _group_exists(proc: subprocess.Popen[str]) -> bool:
    if os.name == "nt":
        return proc.poll() is None
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _taskkill_tree(pid: int) -> None:
    try:
        subprocess.run(["taskkill", "/T", "/F", "/PID", str(pid)], capture_output=True, timeout=10,
                       creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    except (OSError, subprocess.SubprocessError) as exc:
        log.error("taskkill failed for %s: %s", pid, exc)


def launch_detached(argv: Sequence[str]) -> None:
    """Start a program the user then works in (the OS's updater) and let it live on its own: no shell, no
    pipes, its own session (Windows: detached from Vigie's console), never waited for. A daemon thread
    only reaps it when it exits, so no zombie is left. Raises ToolMissing when it cannot start."""
    flags = {"creationflags": subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP} \
        if os.name == "nt" else {"start_new_session": True}
    try:
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, close_fds=True, **flags)
    except OSError as exc:
        log.error("cannot start %s: %s", argv[0], exc)
        raise ToolMissing(T("This program could not be started."), f"{argv[0]}: {exc}") from exc
    log.info("started %s (pid %s)", argv[0], process.pid)
    threading.Thread(target=process.wait, name="vigie-reap", daemon=True).start()
