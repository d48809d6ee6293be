"""Runner, migrations and entry sizes: the contracts every later check relies on."""

from __future__ import annotations

import logging
from datetime import datetime

import msgspec
import pytest

from vigie.check import CheckContext, run_check
from vigie.config import migrations
from vigie.config.schema import MAX_ENTRY_CHARS, SECTIONS, Config
from vigie.config.store import ConfigError, ConfigStore, LoadedConfig, encode_section
from vigie.events import Tick
from vigie.features import ALL_CHECKS
from vigie.journal import Journal
from vigie.model import Severity
from vigie.platform.linux import LinuxPlatform


class ExplodingCheck:
    id = "exploding"
    label = None
    triggers = (Tick,)

    def evaluate(self, event, ctx):
        raise KeyError("boom")


def test_a_check_that_raises_becomes_unknown_and_is_logged(caplog):
    ctx = CheckContext(LinuxPlatform(), Config(), Journal.in_memory(), clock=datetime.now)
    with caplog.at_level(logging.ERROR):
        finding = run_check(ExplodingCheck(), Tick(), ctx)
    assert finding.severity == Severity.UNKNOWN
    assert finding.check_id == "exploding"
    assert finding.detail.params == {"error": "KeyError"}
    assert "check=exploding failed" in caplog.text


def test_every_check_has_a_config_section_of_its_own_name():
    assert {c.id for c in ALL_CHECKS} <= set(SECTIONS)


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_each_section_fits_in_one_keyring_entry(name):
    # Windows Credential Manager holds 1,280 UTF-16 characters; keep a margin.
    assert len(encode_section(SECTIONS[name]())) < MAX_ENTRY_CHARS


def test_store_refuses_an_entry_over_the_limit():
    class Huge(msgspec.Struct):
        text: str = "é" * MAX_ENTRY_CHARS

    store = ConfigStore.__new__(ConfigStore)
    with pytest.raises(ConfigError) as caught:
        store._store("general", Huge())
    assert caught.value.reason.msgid.startswith("These settings are too long")


def test_migrations_run_in_order_and_a_gap_is_an_error():
    table = {"os_updates": {1: lambda d: {"interval_minutes": d["interval_hours"] * 60},
                            2: lambda d: {**d, "note": "v3"}}}
    assert migrations.migrate("os_updates", {"interval_hours": 4}, 1, 3, table) == {
        "interval_minutes": 240, "note": "v3"}
    with pytest.raises(migrations.MigrationMissing):
        migrations.migrate("os_updates", {"interval_hours": 1}, 1, 4, table)


def test_read_only_config_refuses_writes_in_words():
    loaded = LoadedConfig(Config(), read_only=True)
    store = ConfigStore.__new__(ConfigStore)
    with pytest.raises(ConfigError) as caught:
        store.set_value(loaded, "os_updates.security_grace_days", "3")
    assert "read-only" in caught.value.reason.msgid


def test_every_error_vigie_raises_has_one_root_and_a_reason_for_the_user():
    """Only VigieError derives from Exception directly (private control-flow markers aside), and
    each public error class, built the way its module builds it, carries a translatable reason."""
    import ast
    from pathlib import Path

    import vigie
    from vigie.bounded import CallTimeout
    from vigie.config.keyring_access import KeyringUnavailable
    from vigie.errors import VigieError
    from vigie.features.backup.drill import BackupGone, LocalProblem
    from vigie.features.incident.state import IncidentError
    from vigie.model import Text
    from vigie.platform.pcsc import PcscError

    roots = []
    for path in Path(vigie.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {getattr(base, "id", getattr(base, "attr", "")) for base in node.bases}
                if bases & {"Exception", "BaseException", "ValueError", "OSError", "RuntimeError"}:
                    roots.append(f"{path.name}:{node.name}")
    assert roots == ["errors.py:VigieError"]
    for error in (CallTimeout("x"), KeyringUnavailable("keyring_locked", "x"), BackupGone(), LocalProblem(),
                  IncidentError("x"), PcscError("SCardListReaders", 0x8010001D), migrations.MigrationMissing("x")):
        assert isinstance(error, VigieError) and isinstance(error.reason, Text) and error.reason.msgid
