"""The technical log: the agent and the CLI rotate it; a window's process only appends, and never holds
the file between two records (Windows refuses to rename a file another process has open)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import harness

WINDOW_PROCESS = """
import logging, os, sys
from pathlib import Path
from vigie import logs, paths

logs.setup_logging(rotate=False)
log = logging.getLogger("vigie.ui")
log.info("first record")
path = paths.log_dir() / logs.LOG_FILE
print(oct(path.stat().st_mode & 0o777))
held = [fd for fd in os.listdir("/proc/self/fd") if os.path.realpath(f"/proc/self/fd/{fd}") == str(path)]
print(len(held))
os.replace(path, path.with_name("vigie.log.1"))  # what the agent's rotation does meanwhile
log.info("second record")
print("logging.handlers" in sys.modules)
"""


def log_folder(env: dict[str, str]) -> Path:
    return Path(env["XDG_STATE_HOME"]) / "Vigie" / "log"


def test_a_window_appends_without_holding_the_log_open(tmp_path):
    env = harness.isolated_env(tmp_path)
    result = subprocess.run([sys.executable, "-c", WINDOW_PROCESS], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    mode, held, handlers_imported = result.stdout.split()
    assert mode == "0o600" and held == "0" and handlers_imported == "False"
    folder = log_folder(env)
    assert "first record" in (folder / "vigie.log.1").read_text(encoding="utf-8")
    current = (folder / "vigie.log").read_text(encoding="utf-8")
    assert "second record" in current and "first record" not in current  # reopened by name, after the rename


def test_the_agent_and_the_cli_rotate(tmp_path):
    env = harness.isolated_env(tmp_path)
    code = ("import logging; from vigie import logs; logs.setup_logging(); "
            "print(type(logging.getLogger().handlers[-1]).__name__)")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "RotatingFileHandler", result.stderr
