"""Access to the captured OS outputs in tests/fixtures/ (see each file's `# SOURCE:` header)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> str:
    """The text of tests/fixtures/NAME without its leading `# ` header lines (SOURCE, NOTE).

    Only the leading block is dropped: a `# ` line further down (a section separator) is kept.
    """
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines(keepends=True)
    start = 0
    while start < len(lines) and lines[start].startswith("# "):
        start += 1
    return "".join(lines[start:])
