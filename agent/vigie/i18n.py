"""gettext: French by default, English second (the message ids are English)."""

from __future__ import annotations

import gettext
import os
from pathlib import Path

from vigie.model import Text

DOMAIN = "vigie"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANGUAGE = "fr"
LANGUAGES = ("fr", "en")


def resolve_language(explicit: str | None = None, configured: str | None = None) -> str:
    """--lang, then VIGIE_LANG, then the configuration, then French."""
    for candidate in (explicit, os.environ.get("VIGIE_LANG"), configured):
        if candidate:
            code = candidate.strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return DEFAULT_LANGUAGE


def translator(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def render(text: Text | None, tr: gettext.NullTranslations) -> str:
    if text is None:
        return ""
    if text.plural is not None:
        message = tr.ngettext(text.msgid, text.plural, text.n or 0)
    else:
        message = tr.gettext(text.msgid)
    if not text.params:
        return message
    # A parameter may itself be a Text (a reason inside a sentence), or a tuple of Texts shown one
    # per line (a list of backups): translate those too.
    params = {k: _render_param(v, tr) for k, v in text.params.items()}
    return message.format(**params)


def _render_param(value: object, tr: gettext.NullTranslations) -> object:
    if isinstance(value, Text):
        return render(value, tr)
    if isinstance(value, tuple) and value and all(isinstance(v, Text) for v in value):
        return "\n".join("• " + render(v, tr) for v in value)
    return value
