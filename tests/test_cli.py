"""`vigie check` and its contract with the IT provider's tools."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema

import harness
from vigie.model import Finding, Severity, T
from vigie.report import exit_code

SCHEMA = json.loads((harness.ROOT / "agent/vigie/schemas/check-report.schema.json").read_text())


def test_check_imports_no_gui_toolkit_and_needs_no_screen(home_env, apt_config):
    code = (
        "import sys; from vigie.cli import main; rc = main(['check']);"
        "gui = sorted(m for m in sys.modules if m.split('.')[0] in {'pystray', 'gi', 'tkinter', 'Xlib', 'cairo',"
        " 'desktop_notifier', 'plyer'} or m == 'PIL.ImageTk'); print('GUI', gui); sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], env=dict(home_env, APT_CONFIG=apt_config),
                            capture_output=True, text=True, timeout=60)
    assert "DISPLAY" not in home_env
    assert result.returncode == 1, result.stderr
    assert "GUI []" in result.stdout


def test_json_report_follows_the_documented_schema(home_env, apt_config, tmp_path):
    # No machine-wide autostart entry (a .deb being tested at the same time installs one).
    env = dict(home_env, APT_CONFIG=apt_config, XDG_CONFIG_DIRS=str(tmp_path / "no-system-entry"))
    result = harness.run_vigie(env, "check", "--json")
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["exit_code"] == result.returncode == 1
    assert report["config"]["read_only"] is True  # no bus here: no keyring
    assert report["config"]["problems"][0]["code"] == "no_keyring"
    # No agent runs here and none is expected (no autostart, no quit code): said, and only INFO.
    assert report["agent"] == {"running": False, "pid": None, "since": None, "autostart": False, "protected": False,
                               "expected": False, "last_end": None}
    assert [c["severity"] for c in report["checks"] if c["id"] == "agent"] == ["info"]


def test_lang_en_and_vigie_lang(home_env, apt_config):
    env = dict(home_env, APT_CONFIG=apt_config)
    english = harness.run_vigie(env, "check", "--lang", "en").stdout
    assert re.search(r"^WARNING +System updates +2 updates are waiting to be installed\.$", english, re.M)
    assert "2 points to look at." in english  # the updates, and no backup known
    assert "2 updates are waiting" in harness.run_vigie(dict(env, VIGIE_LANG="en"), "check").stdout
    assert "2 mises à jour" in harness.run_vigie(env, "check").stdout


def test_exit_codes_follow_the_worst_finding():
    def f(*severities):
        return [Finding("x", s, T("t")) for s in severities]

    assert exit_code(f(Severity.OK, Severity.INFO)) == 0
    assert exit_code(f(Severity.OK, Severity.WARNING)) == 1
    assert exit_code(f(Severity.WARNING, Severity.CRITICAL, Severity.UNKNOWN)) == 2
    assert exit_code(f(Severity.WARNING, Severity.UNKNOWN)) == 1
    assert exit_code(f(Severity.OK, Severity.UNKNOWN)) == 3


def test_log_file_is_private_and_records_each_check(home_env, apt_config):
    harness.run_vigie(dict(home_env, APT_CONFIG=apt_config), "check")
    log = Path(home_env["XDG_STATE_HOME"]) / "Vigie" / "log" / "vigie.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert "check=os_updates severity=WARNING" in text
    assert home_env["HOME"] not in text  # no paths of the user's files, no personal data


def test_journal_is_private(home_env, apt_config):
    harness.run_vigie(dict(home_env, APT_CONFIG=apt_config), "check")
    journal = Path(home_env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3"
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.parent.stat().st_mode) == 0o700


def test_unwritable_data_dir_still_gives_a_report(home_env, apt_config):
    data = Path(home_env["XDG_DATA_HOME"])
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("not a directory")  # the journal cannot be created under it
    result = harness.run_vigie(dict(home_env, APT_CONFIG=apt_config), "check")
    assert result.returncode == 1
    assert "Le journal de Vigie ne peut pas être ouvert" in result.stderr
    assert "2 mises à jour attendent" in result.stdout


def test_info_rows_are_never_called_ok(home_env, apt_config):
    """Issue 18: no backup drive enrolled and nothing to test are INFO, and the table says so."""
    table = harness.run_vigie(dict(home_env, APT_CONFIG=apt_config), "check").stdout
    assert re.search(r"^INFO +Disque de sauvegarde +Aucun disque de sauvegarde n’est enregistré\.$", table, re.M)
    assert re.search(r"^INFO +Test de restauration +Vigie n’a aucune sauvegarde qu’il puisse tester\.$", table, re.M)
    assert re.search(r"^ATTENTION +Sauvegardes +Vigie ne connaît aucune sauvegarde de ce poste\.$", table, re.M)
