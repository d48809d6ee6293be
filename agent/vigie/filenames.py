"""File names as the OS gives them: kept losslessly, shown readably.

On Linux a name is bytes and Python hands undecodable ones over as lone surrogates
(surrogateescape): `facture\\udcff.pdf`, common after a ransomware run. Such a string cannot be
encoded to UTF-8, so every place that stores or prints a name goes through here.
"""

from __future__ import annotations

import json


def readable(name: str) -> str:
    """The name for a person: undecodable bytes shown as \\xff, everything else unchanged."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def is_lossless_text(name: str) -> bool:
    """True when the name is plain UTF-8 text (no escaped byte inside)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def dumps(data: object, **kwargs: object) -> str:
    """JSON that always encodes to UTF-8 and loads back to the very same names.

    Readable text stays as it is; a lone surrogate is written as a \\udcXX escape, which
    json.loads turns back into the same surrogate, so os.fsencode() gives the original bytes.
    """
    text = json.dumps(data, ensure_ascii=False, **kwargs)
    if is_lossless_text(text):
        return text
    return json.dumps(data, ensure_ascii=True, **kwargs)
