"""File names that are not valid UTF-8 (common after a ransomware run) are kept and shown (issue 15, point 10)."""

from __future__ import annotations

import os
import sys
from datetime import datetime

import pytest

from vigie import filenames
from vigie.journal import Journal

RAW = b"facture\xff\xfe.pdf.locked"
# Names made of bytes are POSIX's; Windows names are UTF-16 (and os.fsdecode is strict UTF-8 there).
posix_names = pytest.mark.skipif(sys.platform == "win32", reason="file names are bytes only on POSIX systems")


@posix_names
def test_a_non_utf8_name_survives_the_journal_byte_for_byte(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    name = os.fsdecode(RAW)
    journal.record("restore_drill", datetime(2026, 12, 2, 8, 0), files=[name, "Résumé.pdf"])
    journal.close()

    reopened = Journal(tmp_path / "journal.sqlite3")
    (_, kind, data), = reopened.events()
    assert kind == "restore_drill"
    assert [os.fsencode(f) for f in data["files"]] == [RAW, "Résumé.pdf".encode()]


def test_plain_text_is_stored_as_text_not_escaped():
    assert filenames.dumps({"label": "Clé « Cabinet »"}) == '{"label": "Clé « Cabinet »"}'


@posix_names
def test_a_non_utf8_name_is_shown_with_its_bytes_spelt_out():
    assert filenames.readable(os.fsdecode(RAW)) == "facture\\xff\\xfe.pdf.locked"
    assert filenames.readable("Résumé.pdf") == "Résumé.pdf"
