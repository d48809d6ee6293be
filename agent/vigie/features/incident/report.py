"""`vigie incident report`: the PDF for the complaint, the CNIL and the insurer (fpdf2).

The timeline (detection, steps with their times, network cut, screenshots with their SHA-256, notes,
contacts called), the two deadlines, the suspicious file names, Vigie's journal and the evidence
manifest. Never the contents of a user's file: only what evidence.py wrote, which holds none.
A Unicode TrueType font is embedded (accents, « », €); without one, the PDF falls back to a core
font and the few characters it lacks are replaced.
"""

from __future__ import annotations

import gettext
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vigie import filenames
from vigie.features.incident import evidence
from vigie.features.incident.contacts import contact_list
from vigie.features.incident.deadlines import Deadline, Kind, deadlines, remaining_text
from vigie.features.incident.state import STEPS, Action, Incident, IncidentStore, date_text, when_text
from vigie.i18n import render
from vigie.model import TN, T, Text

log = logging.getLogger(__name__)

MAX_FILES_LISTED = 200
MAX_JOURNAL_LISTED = 300
MAX_DATA_CHARS = 160
FAMILY = "vigie"

STEP_TITLES: dict[str, Text] = {
    "keep_on": T("Do not switch off the computer"),
    "cut_network": T("Disconnect from the network"),
    "dont_pay": T("Do not pay the ransom"),
    "evidence": T("Keep evidence"),
    "alert": T("Alert the right people"),
    "deadlines": T("Complaint and CNIL: 72 hours"),
    "keep_caring": T("Keep caring for your patients"),
}


# --- dates, in the reader's language ---

def local_date(at: datetime, tr: gettext.NullTranslations) -> str:
    return render(date_text(at), tr)


def format_when(at: datetime, tr: gettext.NullTranslations) -> str:
    """« 22/11/2026 à 14:30 », local wall-clock time."""
    return render(when_text(at), tr)


def format_stamp(at: datetime, tr: gettext.NullTranslations) -> str:
    """« 22/11/2026 14:30:05 », for the timeline."""
    return f"{local_date(at, tr)} {at.astimezone().strftime('%H:%M:%S')}"


def utc_offset(at: datetime) -> str:
    offset = at.astimezone().strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


# --- fonts ---

@dataclass(frozen=True)
class FontFiles:
    regular: Path
    bold: Path | None = None
    index: int = 0  # inside a .ttc collection


def _font_candidates(system: str) -> list[FontFiles]:
    if system == "win32":
        fonts = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
        pairs = [("arial.ttf", "arialbd.ttf"), ("segoeui.ttf", "segoeuib.ttf"), ("calibri.ttf", "calibrib.ttf")]
        return [FontFiles(fonts / regular, fonts / bold) for regular, bold in pairs]
    if system == "darwin":
        supplemental = Path("/System/Library/Fonts/Supplemental")
        return [FontFiles(supplemental / "Arial.ttf", supplemental / "Arial Bold.ttf"),
                FontFiles(Path("/Library/Fonts/Arial.ttf"), Path("/Library/Fonts/Arial Bold.ttf")),
                FontFiles(Path("/System/Library/Fonts/Helvetica.ttc"))]
    found = []
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF",
                   "/usr/share/fonts/dejavu-sans-fonts"):
        found.append(FontFiles(Path(folder) / "DejaVuSans.ttf", Path(folder) / "DejaVuSans-Bold.ttf"))
    for folder in ("/usr/share/fonts/truetype/liberation", "/usr/share/fonts/liberation-sans"):
        found.append(FontFiles(Path(folder) / "LiberationSans-Regular.ttf", Path(folder) / "LiberationSans-Bold.ttf"))
    return found


def find_font(system: str | None = None, exists: Callable[[Path], bool] = Path.is_file) -> FontFiles | None:
    for candidate in _font_candidates(system or sys.platform):
        if exists(candidate.regular):
            bold = candidate.bold if candidate.bold is not None and exists(candidate.bold) else None
            return FontFiles(candidate.regular, bold, candidate.index)
    return None


_LATIN1_FALLBACKS = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "—": "-", "–": "-", "…": "...",
                                   "€": "EUR", "\u202f": "\u00a0", "•": "-", "œ": "oe", "Œ": "OE"})


def latin1(text: str) -> str:
    """For the core-font fallback: what Latin-1 cannot hold becomes its nearest ASCII or « ? »."""
    return text.translate(_LATIN1_FALLBACKS).encode("latin-1", "replace").decode("latin-1")


# --- the document ---

class ReportPdf:
    def __init__(self, tr: gettext.NullTranslations, font: FontFiles | None) -> None:
        from fpdf import FPDF  # only the report needs it

        self.tr = tr
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(True, margin=15)
        self.pdf.set_margins(18, 16, 18)
        self.family, self.unicode = self._fonts(font)
        self.pdf.add_page()

    def _fonts(self, font: FontFiles | None) -> tuple[str, bool]:
        if font is None:
            log.warning("report: no Unicode font found; core font used")
            return "helvetica", False
        try:
            self.pdf.add_font(FAMILY, "", font.regular, collection_font_number=font.index)
            self.pdf.add_font(FAMILY, "B", font.bold or font.regular, collection_font_number=font.index)
        except Exception as exc:  # a damaged or unexpected font file: fontTools raises many kinds
            log.warning("report: font %s unusable (%s); core font used", font.regular, exc)
            return "helvetica", False
        return FAMILY, True

    def _t(self, text: Text | str) -> str:
        """Every text goes through here. File names may hold undecodable bytes (lone surrogates): a
        font has no glyph for them (fpdf would silently drop them), so they are spelt out as \\xff."""
        shown = filenames.readable(text if isinstance(text, str) else render(text, self.tr))
        return shown if self.unicode else latin1(shown)

    def title(self, text: Text, subtitle: str) -> None:
        self.pdf.set_font(self.family, "B", 18)
        self.pdf.multi_cell(0, 9, self._t(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.set_font(self.family, "", 10)
        self.pdf.multi_cell(0, 5, self._t(subtitle), new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.ln(3)

    def heading(self, text: Text) -> None:
        self.pdf.ln(3)
        self.pdf.set_font(self.family, "B", 13)
        self.pdf.multi_cell(0, 7, self._t(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.set_font(self.family, "", 10)

    def line(self, text: Text | str, size: float = 10, bold: bool = False, indent: float = 0) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_x(self.pdf.l_margin + indent)
        self.pdf.multi_cell(0, size * 0.5, self._t(text), new_x="LMARGIN", new_y="NEXT", align="L")

    def entry(self, label: str, text: str, width: float = 42) -> None:
        """A row: the label (a time) in bold on the left, the text beside it, wrapped in its column."""
        self.pdf.set_font(self.family, "B", 10)
        self.pdf.set_x(self.pdf.l_margin)
        self.pdf.cell(width, 5, self._t(label))
        self.pdf.set_font(self.family, "", 10)
        self.pdf.multi_cell(0, 5, self._t(text), new_x="LMARGIN", new_y="NEXT", align="L")

    def output(self) -> bytes:
        return bytes(self.pdf.output())


# --- what each part says ---

def _action_text(action: Action) -> Text:
    detail = action.detail
    if action.kind == "network_cut":
        if detail.get("done"):
            return T("Network cut by Vigie ({method}).", method=str(detail.get("method", "")))
        return T("Vigie could not cut the network itself: {reason}", reason=str(detail.get("reason", "")))
    if action.kind == "network_check":
        if detail.get("cut"):
            return T("Network check: cut (no route left).")
        return T("Network check: still connected ({interfaces}).", interfaces=str(detail.get("interfaces", "")))
    if action.kind == "screenshot":
        return T("Screenshot saved: {file}", file=str(detail.get("file", "")))
    if action.kind == "evidence_copy":
        if detail.get("verified"):
            return T("Evidence copied and checked: {path}", path=str(detail.get("path", "")))
        return T("Evidence copied with differences: {path}", path=str(detail.get("path", "")))
    if action.kind == "report":
        return T("Incident report created: {file}", file=str(detail.get("file", "")))
    if action.kind == "facts":
        found = detail.get("suspicious", 0)
        return TN("Vigie looked through the user's folders: {n} suspicious recent file.",
                  "Vigie looked through the user's folders: {n} suspicious recent files.",
                  found if isinstance(found, int) else 0)
    return T("{kind}: {detail}", kind=action.kind, detail=json.dumps(detail, ensure_ascii=False))


def timeline(incident: Incident) -> list[tuple[datetime, Text]]:
    contacts = {contact.key: contact.title for contact in contact_list(incident.contacts)}
    entries: list[tuple[datetime, Text]] = [(incident.detected_at, T("Attack detected: the incident is opened."))]
    for mark in incident.steps_done:
        if mark.what in STEP_TITLES:
            entries.append((mark.at, T("Step {number} done: {title}", number=STEPS.index(mark.what) + 1,
                                       title=STEP_TITLES[mark.what])))
    entries += [(action.at, _action_text(action)) for action in incident.actions]
    entries += [(note.at, T("Note: {text}", text=note.text)) for note in incident.notes]
    entries += [(mark.at, T("Contacted: {who}", who=contacts.get(mark.what, mark.what))) for mark in incident.calls]
    if incident.closed and incident.closed_at:
        entries.append((incident.closed_at, T("Incident closed.")))
    return sorted(entries, key=lambda entry: entry[0])


def deadline_texts(detected_at: datetime, now: datetime, tr: gettext.NullTranslations) -> list[tuple[Text, str]]:
    names = {Kind.COMPLAINT: T("Complaint (Code des assurances, article L12-10-1)"),
             Kind.CNIL: T("CNIL notification (RGPD, article 33)")}
    return [(names[d.kind], _deadline_line(d, tr)) for d in deadlines(detected_at, now)]


def _deadline_line(deadline: Deadline, tr: gettext.NullTranslations) -> str:
    left = render(remaining_text(deadline), tr)
    return render(T("Before {when} — time left when this report was made: {left}",
                    when=format_when(deadline.due, tr), left=left), tr)


def journal_text(event: dict) -> str:
    data = json.dumps(event.get("data", {}), ensure_ascii=False, sort_keys=True)
    if len(data) > MAX_DATA_CHARS:
        data = data[: MAX_DATA_CHARS - 1] + "…"
    return f"{event.get('kind', '?')} {data}"


def _load_json(path: Path, default: object) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


# --- putting it together ---

def build(incident: Incident, folder: Path, now: datetime, tr: gettext.NullTranslations,
          font: FontFiles | None) -> bytes:
    doc = ReportPdf(tr, font)
    system = _load_json(folder / evidence.SYSTEM_FILE, {})
    doc.title(T("Incident report — suspected cyberattack"),
              render(T("Made by Vigie on {when}, for the complaint, the CNIL and the insurer.",
                       when=format_when(now, tr)), tr))
    _summary(doc, incident, system if isinstance(system, dict) else {}, tr)
    doc.heading(T("The two 72-hour deadlines"))
    for name, text in deadline_texts(incident.detected_at, now, tr):
        doc.line(name, bold=True)
        doc.line(text, indent=4)
    doc.heading(T("Timeline"))
    doc.line(T("Local time of this computer ({offset}).", offset=utc_offset(now)), size=9)
    for at, text in timeline(incident):
        doc.entry(format_stamp(at, tr), render(text, tr))
    _screenshots(doc, incident, folder)
    _contacts(doc, incident, tr)
    _suspicious(doc, _load_json(folder / evidence.SUSPICIOUS_FILE, None), tr)
    _journal(doc, _load_json(folder / evidence.JOURNAL_FILE, []), tr)
    _manifest(doc, folder)
    return doc.output()


def _summary(doc: ReportPdf, incident: Incident, system: dict, tr: gettext.NullTranslations) -> None:
    booted = _parse_time(system.get("booted_at"))
    rows = [
        (T("Detected"), f"{format_stamp(incident.detected_at, tr)} ({utc_offset(incident.detected_at)})"),
        (T("Incident number"), incident.id),
        (T("Computer"), str(system.get("host", ""))),
        (T("System"), " ".join(str(system.get(k, "")) for k in ("os", "os_release")).strip()),
        (T("Switched on since"), format_stamp(booted, tr) if booted else ""),
        (T("Incident"), render(T("closed") if incident.closed else T("in progress"), tr)),
    ]
    for label, value in rows:
        if value:
            doc.entry(render(label, tr), value)


def _parse_time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _screenshots(doc: ReportPdf, incident: Incident, folder: Path) -> None:
    shots = [a for a in incident.actions if a.kind == "screenshot"]
    doc.heading(T("Screenshots and their SHA-256 fingerprints"))
    if not shots:
        doc.line(T("No screenshot was taken."))
    for action in shots:
        doc.line(str(action.detail.get("file", "")), bold=True)
        doc.line(str(action.detail.get("sha256", "")), size=8, indent=4)


def _contacts(doc: ReportPdf, incident: Incident, tr: gettext.NullTranslations) -> None:
    doc.heading(T("Who was alerted"))
    for contact in contact_list(incident.contacts):
        called = incident.called_at(contact.key)
        status = T("contacted on {when}", when=format_when(called, tr)) if called else T("not yet")
        doc.line(T("{who}: {status}", who=contact.title, status=status), bold=True)
        for line in contact.lines[:2]:
            doc.line(line, size=9, indent=4)


def _suspicious(doc: ReportPdf, scan: object, tr: gettext.NullTranslations) -> None:
    doc.heading(T("Suspicious recent files (names and dates only, never their contents)"))
    if not isinstance(scan, dict):
        doc.line(T("Vigie has not looked through the folders yet."))
        return
    files = scan.get("files", [])
    total = scan.get("suspicious_total", 0)
    doc.line(TN("{n} file found in the last {days} days; folders looked through: {roots}.",
                "{n} files found in the last {days} days; folders looked through: {roots}.",
                total if isinstance(total, int) else 0, days=scan.get("days", 7),
                roots=", ".join(scan.get("roots", []))), size=9)
    if not scan.get("complete", True):
        doc.line(T("The search stopped before the end (too many files): the list may be incomplete."), size=9)
    reasons = {"ransom_extension": T("known ransomware extension"), "unusual_extension": T("unusual extension"),
               "ransom_note": T("looks like a ransom note")}
    for item in files[:MAX_FILES_LISTED]:
        reason = reasons.get(item.get("reason"), T("suspicious"))
        modified = _parse_time(item.get("modified"))
        when = format_stamp(modified, tr) if modified else ""
        doc.line(f"{when}  {item.get('path', '')}  ({render(reason, tr)})", size=8)
    if len(files) > MAX_FILES_LISTED:
        doc.line(T("… and {n} more in the evidence folder.", n=len(files) - MAX_FILES_LISTED), size=8)


def _journal(doc: ReportPdf, events: object, tr: gettext.NullTranslations) -> None:
    doc.heading(T("Vigie's journal (USB drives, backups, locks, alerts)"))
    events = events if isinstance(events, list) else []
    if not events:
        doc.line(T("Nothing recorded."))
    for event in events[-MAX_JOURNAL_LISTED:]:
        if isinstance(event, dict):
            at = _parse_time(event.get("at"))
            doc.line(f"{format_stamp(at, tr) if at else ''}  {journal_text(event)}", size=8)


def _manifest(doc: ReportPdf, folder: Path) -> None:
    doc.heading(T("Evidence folder: SHA-256 fingerprints of every file"))
    doc.line(str(folder), size=8)
    try:
        entries = evidence.read_manifest(folder)
    except OSError:
        entries = {}
    for name, digest in entries.items():
        doc.line(f"{digest}  {name}", size=7)


def write_report(store: IncidentStore, incident_id: str, now: datetime, tr: gettext.NullTranslations,
                 font: FontFiles | None = None) -> Path:
    """The PDF, 0600, in the evidence folder (so « Copier les preuves » takes it along).
    The font is found on the system unless given."""
    folder = store.evidence_dir(incident_id)
    evidence.sync(store, store.load(incident_id))  # the manifest listed in the report is the current one
    data = build(store.load(incident_id), folder, now, tr, font or find_font())
    path = folder / f"incident-report-{evidence.stamp(now)}.pdf"
    evidence.write_private_bytes(path, data)
    with store.change(incident_id) as incident:
        incident.actions.append(Action("report", now, {"file": path.name}))
    evidence.sync(store, incident)
    log.info("incident %s: report written (%d bytes)", incident_id, len(data))
    return path
