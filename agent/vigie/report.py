"""`vigie check` output: a readable table for people, JSON for the IT provider's tools."""

from __future__ import annotations

import gettext
import json
import shutil
import socket
import textwrap
from collections.abc import Sequence
from datetime import datetime

from vigie import __version__
from vigie.check import Check
from vigie.config.store import LoadedConfig
from vigie.i18n import render
from vigie.model import TN, Finding, Severity, T

JSON_SCHEMA = "vigie-check/1"

SEVERITY_LABELS = {
    Severity.OK: T("OK"),
    Severity.INFO: T("Info"),
    Severity.WARNING: T("Warning"),
    Severity.CRITICAL: T("Urgent"),
    Severity.UNKNOWN: T("Unknown"),
}
READ_ONLY_NOTE = T("Vigie is using its default settings and will not save anything for now.")


def exit_code(findings: Sequence[Finding]) -> int:
    """0 OK/INFO, 1 WARNING, 2 CRITICAL; 3 when some check could not run and nothing is worse."""
    severities = {f.severity for f in findings}
    if Severity.CRITICAL in severities:
        return 2
    if Severity.WARNING in severities:
        return 1
    if Severity.UNKNOWN in severities:
        return 3
    return 0


def to_json(
    checks: Sequence[Check], findings: Sequence[Finding], loaded: LoadedConfig, platform_name: str,
    language: str, tr: gettext.NullTranslations, now: datetime, agent: dict[str, object] | None = None,
) -> str:
    """agent: whether the tray agent runs (`vigie check` only; the agent's own snapshot has none)."""
    document: dict[str, object] = {
        "schema": JSON_SCHEMA,
        "vigie_version": __version__,
        "generated_at": now.isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "platform": platform_name,
        "language": language,
        "exit_code": exit_code(findings),
        "config": {
            "read_only": loaded.read_only,
            "problems": [
                {"code": p.code, "section": p.section, "message": render(p.message, tr)} for p in loaded.problems
            ],
        },
        "checks": [
            {
                "id": f.check_id,
                "label": render(c.label, tr),
                "severity": f.severity.name.lower(),
                "severity_level": int(f.severity),
                "title": render(f.title, tr),
                "detail": render(f.detail, tr),
                "fix": render(f.fix, tr),
                "facts": dict(f.facts),
                # The button on the check's card in the status window (the feature that owns the check chose
                # it); "command" goes back to the agent as is.
                "action": {"command": f.action.command, "label": render(f.action.label, tr)} if f.action else None,
            }
            for c, f in zip(checks, findings, strict=True)
        ],
    }
    if agent is not None:
        document["agent"] = agent
    return json.dumps(document, ensure_ascii=False, indent=2)


def to_table(
    checks: Sequence[Check], findings: Sequence[Finding], loaded: LoadedConfig,
    tr: gettext.NullTranslations, now: datetime,
) -> str:
    width = max(72, min(shutil.get_terminal_size((100, 24)).columns, 120))
    state_w = max(len(render(label, tr)) for label in SEVERITY_LABELS.values()) + 2
    labels = [render(c.label, tr) for c in checks]
    label_w = max([len(render(T("Checked"), tr)), *map(len, labels)]) + 2
    text_w = width - state_w - label_w
    lines = [
        render(T("Vigie — security status of this computer ({date})", date=now.strftime("%d/%m/%Y %H:%M")), tr),
        "",
    ]
    lines += _config_notes(loaded, tr, width)
    header = render(T("Status"), tr).ljust(state_w) + render(T("Checked"), tr).ljust(label_w) + render(
        T("Finding"), tr)
    lines += [header, "─" * (state_w - 2) + "  " + "─" * (label_w - 2) + "  " + "─" * (text_w - 2)]
    for label, finding in zip(labels, findings, strict=True):
        cells = [render(finding.title, tr), render(finding.detail, tr)]
        if finding.fix:
            cells.append("→ " + render(finding.fix, tr))
        # A detail may list things one per line (the backups): keep its lines, wrap each.
        wrapped = [w for cell in cells if cell for line in cell.splitlines()
                   for w in textwrap.wrap(line, text_w - 2, subsequent_indent="  " if line.startswith("• ") else "")]
        first = render(SEVERITY_LABELS[finding.severity], tr).upper().ljust(state_w) + label.ljust(label_w)
        lines.append(first + wrapped[0])
        lines += [" " * (state_w + label_w) + w for w in wrapped[1:]]
    lines += ["", _summary(findings, tr)]
    return "\n".join(lines)


def _config_notes(loaded: LoadedConfig, tr: gettext.NullTranslations, width: int) -> list[str]:
    if not loaded.problems:
        return []
    lines = []
    for problem in loaded.problems:
        text = render(T("Settings: {problem}", problem=problem.message), tr)
        if problem.section:
            text += f" [{problem.section}]"
        lines += textwrap.wrap(text, width, subsequent_indent="  ")
    if loaded.read_only:
        lines += textwrap.wrap(render(READ_ONLY_NOTE, tr), width, initial_indent="  ", subsequent_indent="  ")
    return [*lines, ""]


def _summary(findings: Sequence[Finding], tr: gettext.NullTranslations) -> str:
    to_check = sum(f.severity in (Severity.WARNING, Severity.CRITICAL) for f in findings)
    unknown = sum(f.severity == Severity.UNKNOWN for f in findings)
    if to_check:
        return render(TN("{n} point to look at.", "{n} points to look at.", to_check), tr)
    if unknown:
        return render(TN("{n} check could not be run.", "{n} checks could not be run.", unknown), tr)
    return render(T("All is well."), tr)
