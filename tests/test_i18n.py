"""French is complete, placeholders agree, and the shipped .mo matches the .po."""

from __future__ import annotations

import io
import re
import string
from gettext import GNUTranslations
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from vigie.i18n import LOCALE_DIR, render, translator
from vigie.model import TN, T

PACKAGE = Path(__file__).resolve().parent.parent / "agent" / "vigie"
PO = LOCALE_DIR / "fr" / "LC_MESSAGES" / "vigie.po"
MO = LOCALE_DIR / "fr" / "LC_MESSAGES" / "vigie.mo"
KEYWORDS = {"T": None, "TN": (1, 2)}


def catalog():
    with PO.open("rb") as handle:
        return read_po(handle, locale="fr")


def source_messages() -> set[str]:
    """Every T(...) / TN(...) message id in the code, as Babel's extractor sees it."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(PACKAGE, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_in_the_code_has_a_french_translation():
    cat = catalog()
    missing = []
    for msgid in sorted(source_messages()):
        message = cat.get(msgid)
        strings = message.string if message else None
        forms = strings if isinstance(strings, tuple) else (strings,)
        if message is None or not all(forms) or message.fuzzy:
            missing.append(msgid)
    assert missing == [], "untranslated (run installer/update-translations.sh, then translate):\n" + "\n".join(missing)


def test_placeholders_match_between_english_and_french():
    problems = []
    for message in catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set().union(*map(placeholders, ids))
        if isinstance(message.id, tuple):
            # The singular French form may spell out "une" instead of {n}; the plural form may not.
            ok = all(placeholders(f) <= expected for f in forms) and placeholders(forms[-1]) == expected
        else:
            ok = placeholders(forms[0]) == expected
        if not ok:
            problems.append((ids, forms))
    assert problems == []


def test_the_shipped_mo_is_compiled_from_the_current_po():
    compiled = io.BytesIO()
    write_mo(compiled, catalog())
    fresh = GNUTranslations(io.BytesIO(compiled.getvalue()))
    with MO.open("rb") as handle:
        shipped = GNUTranslations(handle)
    # Every message and plural form, but not the "" header: its Generated-By names the Babel release.
    assert {k: v for k, v in shipped._catalog.items() if k != ""} == {
        k: v for k, v in fresh._catalog.items() if k != ""
    }
    assert shipped._info["plural-forms"] == fresh._info["plural-forms"]  # which form a count takes


def test_catalogue_has_no_stale_entries():
    stale = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog() if m.id} - source_messages()
    assert stale == set()


@pytest.mark.parametrize(
    ("text", "english", "french"),
    [
        (T("The system is up to date."), "The system is up to date.", "Le système est à jour."),
        (TN("{n} update is waiting to be installed.", "{n} updates are waiting to be installed.", 1),
         "1 update is waiting to be installed.", "1 mise à jour attend d’être installée."),
        (TN("{n} update is waiting to be installed.", "{n} updates are waiting to be installed.", 4),
         "4 updates are waiting to be installed.", "4 mises à jour attendent d’être installées."),
        (T("Nothing was saved: {reason}", reason=T("The system keyring is locked.")),
         "Nothing was saved: The system keyring is locked.",
         "Rien n’a été enregistré\u00a0: Le trousseau sécurisé du poste est verrouillé."),
    ],
)
def test_render_in_both_languages(text, english, french):
    assert render(text, translator("en")) == english
    assert render(text, translator("fr")) == french


def test_french_typography_keeps_punctuation_attached():
    # A line must never start with « : » or « ; »: a no-break space holds them to the word before.
    bad = [m.string for m in catalog() if m.id and re.search(r" [:;»]|« ", str(m.string))]
    assert bad == []
