"""`vigie incident report`: the PDF for the complaint, the CNIL and the insurer (fpdf2).

Written for a gendarme, an insurer or an expert who never saw Vigie (issue 19, point 6): every page says
whose practice it is and « page N sur M »; the first page identifies the practice, the practitioner and the
computer; then what was done, step by step, each as *done and verified* (Vigie checked it), *done by the
user (declared)* or *read* (issue 19, point 5); the two deadlines; a French timeline (« 10:42 — Clé USB
« CLE » branchée »), Vigie's journal included; the screenshots themselves with their SHA-256 (checked
again now); the suspicious file names; Vigie's raw journal as an annex; and a closing page listing every
evidence file with its fingerprint and how to check them. A heading never ends a page.
Never the contents of a user's file: only what evidence.py wrote, which holds none.
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
from vigie.features.incident.contacts import WHY_REPORT, IncidentContacts, contact_list
from vigie.features.incident.deadlines import Deadline, Kind, deadlines, remaining_text
from vigie.features.incident.journal_words import journal_sentence
from vigie.features.incident.network import connections_from_detail, join_texts
from vigie.features.incident.state import (
    DECLARED,
    NETWORK_STEP,
    STEPS,
    VERIFIED,
    Action,
    Incident,
    IncidentStore,
    date_text,
    when_text,
)
from vigie.i18n import render
from vigie.model import TN, T, Text

log = logging.getLogger(__name__)

MAX_FILES_LISTED = 200
MAX_JOURNAL_LISTED = 300
MAX_DATA_CHARS = 300
FAMILY = "vigie"
SHOT_WIDTH, SHOT_MAX_HEIGHT = 150.0, 105.0  # mm: a screenshot fits beside its caption on one page
KEEP_WITH_HEADING = 22.0  # mm of what follows a heading that must fit on the same page

STEP_TITLES: dict[str, Text] = {
    "cut_network": T("Cut the network, without switching the computer off"),
    "keep_on": T("Leave it on, and stop using it"),
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
    """« 22/11/2026 14:30:05 »."""
    return f"{local_date(at, tr)} {at.astimezone().strftime('%H:%M:%S')}"


def hour(at: datetime) -> str:
    return at.astimezone().strftime("%H:%M")


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

def _pdf_class() -> type:
    from fpdf import FPDF  # only the report needs it

    class Pdf(FPDF):
        """Every page: who it is about at the top, « page N sur M » at the bottom."""

        header_text = ""
        footer_text = ""  # {page} is replaced here, {nb} by fpdf once the pages are counted
        family = "helvetica"

        def header(self) -> None:
            if not self.header_text:
                return
            self.set_font(self.family, "", 8)
            self.set_text_color(82, 96, 109)
            self.multi_cell(0, 4, self.header_text, new_x="LMARGIN", new_y="NEXT", align="L")
            y = self.get_y() + 1
            self.set_draw_color(213, 217, 223)
            self.line(self.l_margin, y, self.w - self.r_margin, y)
            self.set_y(y + 4)
            self.set_text_color(0, 0, 0)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(self.family, "", 8)
            self.set_text_color(82, 96, 109)
            self.cell(0, 5, self.footer_text.replace("{page}", str(self.page_no())), align="C")
            self.set_text_color(0, 0, 0)

    return Pdf


class ReportPdf:
    def __init__(self, tr: gettext.NullTranslations, font: FontFiles | None) -> None:
        self.tr = tr
        self.pdf = _pdf_class()(format="A4")
        self.pdf.set_auto_page_break(True, margin=18)
        self.pdf.set_margins(18, 14, 18)
        self.family, self.unicode = self._fonts(font)
        self.pdf.family = self.family

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

    def frame(self, header: str, footer: str) -> None:
        """The running header and footer, then the first page."""
        self.pdf.header_text, self.pdf.footer_text = self._t(header), self._t(footer)
        self.pdf.add_page()

    def title(self, text: Text, subtitle: str) -> None:
        self.pdf.set_font(self.family, "B", 18)
        self.pdf.multi_cell(0, 9, self._t(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.set_font(self.family, "", 10)
        self.pdf.multi_cell(0, 5, self._t(subtitle), new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.ln(3)

    def keep(self, height: float) -> None:
        """A new page unless `height` mm still fit on this one."""
        if self.pdf.will_page_break(height):
            self.pdf.add_page()

    def heading(self, text: Text, keep: float = KEEP_WITH_HEADING) -> None:
        """Never alone at the bottom of a page: it moves to the next with what follows it."""
        self.keep(3 + 8 + keep)
        self.pdf.ln(3)
        self.pdf.set_font(self.family, "B", 13)
        self.pdf.multi_cell(0, 7, self._t(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.ln(1)
        self.pdf.set_font(self.family, "", 10)

    def subheading(self, text: str) -> None:
        self.keep(2 + 6 + 10)
        self.pdf.ln(2)
        self.pdf.set_font(self.family, "B", 10.5)
        self.pdf.multi_cell(0, 6, self._t(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.set_font(self.family, "", 10)

    def _keep_lines(self, text: str, width: float, size: float) -> None:
        """A short paragraph or a timeline row is never cut by a page break: a reader (or a lawyer) must not
        have to piece a sentence together across pages."""
        lines = self.pdf.multi_cell(width, size * 0.5, text, dry_run=True, output="LINES")
        self.keep(len(lines) * size * 0.5)

    def line(self, text: Text | str, size: float = 10, bold: bool = False, indent: float = 0) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self._keep_lines(self._t(text), self.pdf.epw - indent, size)
        self.pdf.set_x(self.pdf.l_margin + indent)
        self.pdf.multi_cell(0, size * 0.5, self._t(text), new_x="LMARGIN", new_y="NEXT", align="L")

    def entry(self, label: str, text: str, width: float = 42, size: float = 10) -> None:
        """A row: the label (a time) in bold on the left, the text beside it, wrapped in its column."""
        self.pdf.set_font(self.family, "", size)
        self._keep_lines(self._t(text), self.pdf.epw - width, size)
        self.pdf.set_font(self.family, "B", size)
        self.pdf.set_x(self.pdf.l_margin)
        self.pdf.cell(width, size * 0.5, self._t(label))
        self.pdf.set_font(self.family, "", size)
        self.pdf.multi_cell(0, size * 0.5, self._t(text), new_x="LMARGIN", new_y="NEXT", align="L")

    def image(self, path: Path, width_px: int, height_px: int) -> None:
        """Scaled to fit SHOT_WIDTH x SHOT_MAX_HEIGHT, centred, with a thin frame."""
        scale = min(SHOT_WIDTH / max(width_px, 1), SHOT_MAX_HEIGHT / max(height_px, 1))
        w, h = width_px * scale, height_px * scale
        self.keep(h + 4)
        x = self.pdf.l_margin + (self.pdf.epw - w) / 2
        y = self.pdf.get_y() + 1
        self.pdf.image(str(path), x=x, y=y, w=w, h=h)
        self.pdf.set_draw_color(160, 160, 160)
        self.pdf.rect(x, y, w, h)
        self.pdf.set_y(y + h + 3)

    def page_break(self) -> None:
        self.pdf.add_page()

    def output(self) -> bytes:
        return bytes(self.pdf.output())


# --- what each part says ---

def _action_text(action: Action) -> Text:
    detail = action.detail
    if action.kind == "network_cut":
        if detail.get("done"):
            return T("Vigie cut the network ({method}).", method=str(detail.get("method", "")))
        return T("Vigie could not cut the network: {reason}", reason=str(detail.get("reason") or ""))
    if action.kind == "network_check":
        if detail.get("cut") is None:
            return T("Network check impossible: {reason}", reason=str(detail.get("error") or ""))
        if detail.get("cut"):
            return T("Network checked by Vigie: cut, no connection left.")
        return T("Network checked by Vigie: still connected ({connections}).",
                 connections=connections_from_detail(detail, with_names=True))
    if action.kind == "screenshot":
        return T("Screenshot saved: {file}", file=str(detail.get("file", "")))
    if action.kind == "evidence_copy":
        if detail.get("verified"):
            return T("Evidence copied and checked: {path}", path=str(detail.get("path", "")))
        return T("Evidence copied with differences: {path}", path=str(detail.get("path", "")))
    if action.kind == "evidence_export":
        if detail.get("verified"):
            return T("Evidence exported as a zip file and checked: {path}", path=str(detail.get("path", "")))
        return T("Evidence exported as a zip file, with differences: {path}", path=str(detail.get("path", "")))
    if action.kind == "report":
        return T("Incident report created: {file}", file=str(detail.get("file", "")))
    if action.kind == "facts":
        found = detail.get("suspicious", 0)
        return TN("Vigie looked through the user's folders: {n} suspicious recent file.",
                  "Vigie looked through the user's folders: {n} suspicious recent files.",
                  found if isinstance(found, int) else 0)
    return T("Other action recorded by Vigie (see the incident's state file, incident.json).")


def _step_mark_text(number: int, step: str, how: str) -> Text:
    title = STEP_TITLES[step]
    if how == VERIFIED:
        return T("Step {number} done and verified by Vigie: {title}", number=number, title=title)
    if how == DECLARED:
        return T("Step {number} done, on the user's word (not verified): {title}", number=number, title=title)
    return T("Step {number} read (“Next” pressed): {title}", number=number, title=title)


def timeline(incident: Incident, journal: list | None = None) -> list[tuple[datetime, Text]]:
    """The incident's own entries and, in French sentences, Vigie's journal (its raw form is the annex)."""
    contacts = {contact.key: contact.title for contact in contact_list(incident.contacts)}
    entries: list[tuple[datetime, Text]] = [(incident.detected_at, T("Attack reported: the incident is opened."))]
    for mark in incident.steps_done:
        if mark.what in STEP_TITLES:
            entries.append((mark.at, _step_mark_text(STEPS.index(mark.what) + 1, mark.what, mark.how)))
    entries += [(action.at, _action_text(action)) for action in incident.actions]
    entries += [(note.at, T("Note: {text}", text=note.text)) for note in incident.notes]
    entries += [(mark.at, T("Contacted, on the user's word: {who}", who=contacts.get(mark.what, mark.what)))
                for mark in incident.calls]
    if incident.closed and incident.closed_at:
        entries.append((incident.closed_at, T("Incident closed.")))
    for number, event in enumerate(journal or [], start=1):
        at = _parse_time(event.get("at")) if isinstance(event, dict) else None
        if at is None or (event.get("data") or {}).get("id") == incident.id:
            continue  # the incident's own opening and closing are already there
        entries.append((at, journal_sentence(str(event.get("kind", "")), event.get("data") or {}, number)))
    return sorted(entries, key=lambda entry: entry[0])


def step_statuses(incident: Incident, system: dict) -> list[tuple[Text, Text]]:
    """Each step, and what the record shows of it: verified, declared, read, or not reached."""
    rows = []
    for number, step in enumerate(STEPS, start=1):
        title = T("{number}. {title}", number=number, title=STEP_TITLES[step])
        rows.append((title, _step_status(incident, step, system)))
    return rows


def _read_or_not(incident: Incident, step: str) -> Text:
    mark = incident.step_mark(step)
    if mark is not None:
        return T("Read at {time} on {date}.", time=hour(mark.at), date=date_text(mark.at))
    if incident.step == step:
        return T("On screen, not finished yet.")
    return T("Not reached yet.")


def _step_status(incident: Incident, step: str, system: dict) -> Text:
    if step == NETWORK_STEP:
        return network_status(incident)
    if step == "keep_on":
        return _keep_on_status(incident, system)
    if step == "evidence":
        shots = sum(1 for action in incident.actions if action.kind == "screenshot")
        if shots or incident.notes:
            return T("Done: {shots} and {notes}, saved by Vigie with their time and fingerprint.",
                     shots=TN("{n} screenshot", "{n} screenshots", shots),
                     notes=TN("{n} note", "{n} notes", len(incident.notes)))
    if step == "alert":
        titles = dict(_titles(incident.contacts))
        called = [T("{who} at {time}", who=titles.get(mark.what, mark.what), time=hour(mark.at))
                  for mark in incident.calls]
        if called:
            return T("Done, on the user's word (not verified): {list}.", list=join_texts(called))
    if step == "deadlines":
        reports = [action for action in incident.actions if action.kind == "report"]
        if reports:
            return T("{read} A report was made at {time}.", read=_read_or_not(incident, step),
                     time=hour(reports[0].at))
    return _read_or_not(incident, step)


def _titles(contacts: IncidentContacts) -> list[tuple[str, Text]]:
    return [(contact.key, contact.title) for contact in contact_list(contacts)]


def network_status(incident: Incident) -> Text:
    """Step 1 as the record shows it. « Verified » only when Vigie read the network as cut; the last check
    is told too when it came after (a connection back up)."""
    checks = incident.network_checks()
    isolated = incident.isolated_at()
    last = checks[-1] if checks else None
    if isolated is not None:
        text = T("Done and verified: Vigie read the network as cut at {time} on {date}.", time=hour(isolated),
                 date=date_text(isolated))
        if last is not None and last.detail.get("cut") is False:
            text = T("{text} But at {time} it was connected again ({connections}).", text=text, time=hour(last.at),
                     connections=connections_from_detail(last.detail, with_names=True))
        return text
    mark = incident.step_mark(NETWORK_STEP)
    if mark is not None and mark.how == DECLARED:
        return T("Done, on the user's word at {time}; not verified: Vigie could not read the state of the "
                 "network.", time=hour(mark.at))
    read = _read_or_not(incident, NETWORK_STEP)
    if last is not None and last.detail.get("cut") is False:
        return T("{read} Not verified: the network was still connected ({connections}) when Vigie last checked, "
                 "at {time}.", read=read, connections=connections_from_detail(last.detail, with_names=True),
                 time=hour(last.at))
    return T("{read} Not verified: Vigie never read the network as cut.", read=read)


def _keep_on_status(incident: Incident, system: dict) -> Text:
    booted = _parse_time(system.get("booted_at"))
    read = _read_or_not(incident, "keep_on")
    if booted is None:
        return read
    if booted <= incident.detected_at:
        return T("{read} Verified: the computer has not restarted since the attack was reported (on since "
                 "{when}).", read=read, when=format_stamp_text(booted))
    return T("{read} The computer restarted after the attack was reported (on since {when}).", read=read,
             when=format_stamp_text(booted))


def format_stamp_text(at: datetime) -> Text:
    return T("{date} at {time}", date=date_text(at), time=hour(at))


def deadline_texts(detected_at: datetime, now: datetime, tr: gettext.NullTranslations) -> list[tuple[Text, str]]:
    names = {Kind.COMPLAINT: T("Complaint (Code des assurances, article L12-10-1)"),
             Kind.CNIL: T("CNIL notification (RGPD, article 33)")}
    return [(names[d.kind], _deadline_line(d, tr)) for d in deadlines(detected_at, now)]


def _deadline_line(deadline: Deadline, tr: gettext.NullTranslations) -> str:
    left = render(remaining_text(deadline), tr)
    return render(T("Before {when} — time left when this report was made: {left}",
                    when=format_when(deadline.due, tr), left=left), tr)


def journal_text(event: dict) -> str:
    """The annex's raw line: the event's name and its data, as stored."""
    data = json.dumps(event.get("data", {}), ensure_ascii=False, sort_keys=True)
    if len(data) > MAX_DATA_CHARS:
        data = data[: MAX_DATA_CHARS - 1] + "…"
    return f"{event.get('kind', '?')} {data}"


def _load_json(path: Path, default: object) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _parse_time(value: object) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.astimezone()


# --- putting it together ---

def build(incident: Incident, folder: Path, now: datetime, tr: gettext.NullTranslations,
          font: FontFiles | None) -> bytes:
    doc = ReportPdf(tr, font)
    system = _load_json(folder / evidence.SYSTEM_FILE, {})
    system = system if isinstance(system, dict) else {}
    journal = _load_json(folder / evidence.JOURNAL_FILE, [])
    journal = journal if isinstance(journal, list) else []
    doc.frame(render(running_header(incident.contacts, incident.id), tr),
              render(T("Incident report {id} — page {page} of {total}", id=incident.id, page="{page}",
                       total="{nb}"), tr))
    doc.title(T("Incident report — suspected cyberattack"),
              render(T("Made by Vigie on {when}, for the complaint, the CNIL and the insurer.",
                       when=format_when(now, tr)), tr))
    _identity(doc, incident, system, tr)
    doc.heading(T("What was done, step by step"))
    doc.line(T("“Verified”: Vigie checked it itself. “On the user's word”: the user said it was done. “Read”: the "
               "step was shown, and the user went on."), size=8.5)
    doc.pdf.ln(1)
    for title, status in step_statuses(incident, system):
        doc.keep(12)
        doc.line(title, bold=True)
        doc.line(status, size=9.5, indent=5)
    doc.heading(T("The two 72-hour deadlines"))
    for name, text in deadline_texts(incident.detected_at, now, tr):
        doc.line(name, bold=True)
        doc.line(text, indent=5)
    _timeline(doc, incident, journal[-MAX_JOURNAL_LISTED:], now, tr)
    _screenshots(doc, incident, folder, tr)
    _contacts(doc, incident, tr)
    _suspicious(doc, _load_json(folder / evidence.SUSPICIOUS_FILE, None), tr)
    _journal(doc, journal, tr)
    _manifest(doc, folder)
    return doc.output()


def running_header(contacts: IncidentContacts, incident_id: str) -> Text:
    who = [part for part in (contacts.practice_name, contacts.practitioner) if part]
    if contacts.rpps:
        who.append(f"RPPS {contacts.rpps}")
    if not who:
        return T("Incident report {id} — practice not named in Vigie's settings", id=incident_id)
    return T("{who} — incident report {id}", who=" — ".join(who), id=incident_id)


def _identity(doc: ReportPdf, incident: Incident, system: dict, tr: gettext.NullTranslations) -> None:
    practice = incident.contacts
    unknown = render(T("not filled in"), tr)
    booted = _parse_time(system.get("booted_at"))
    rows = [
        (T("Practice"), practice.practice_name or unknown),
        (T("Address"), practice.address or unknown),
        (T("Phone"), practice.practice_phone),
        (T("Practitioner"), practice.practitioner or unknown),
        (T("RPPS number"), practice.rpps or unknown),
        (T("Computer"), str(system.get("host", ""))),
        (T("User session"), str(system.get("user", ""))),
        (T("System"), " ".join(str(system.get(k, "")) for k in ("os", "os_release")).strip()),
        (T("Attack reported"), f"{format_stamp(incident.detected_at, tr)} ({utc_offset(incident.detected_at)})"),
        (T("Switched on since"), format_stamp(booted, tr) if booted else ""),
        (T("Incident number"), incident.id),
        (T("Incident"), render(T("closed") if incident.closed else T("in progress"), tr)),
    ]
    for label, value in rows:
        if value:
            doc.entry(render(label, tr), value)
    if not (practice.practice_name or practice.practitioner):
        doc.line(T("The practice's identity is set in Vigie's settings (section “practice”), usually by the IT "
                   "provider."), size=8.5)


def _timeline(doc: ReportPdf, incident: Incident, journal: list, now: datetime, tr: gettext.NullTranslations) -> None:
    doc.heading(T("Timeline"))
    doc.line(T("Local time of this computer ({offset}). Vigie's journal from {days} days before the attack is "
               "included; its raw form is in the annex.", offset=utc_offset(now), days=evidence.JOURNAL_DAYS),
             size=8.5)
    day = None
    for at, text in timeline(incident, journal):
        today = local_date(at, tr)
        if today != day:
            day = today
            doc.subheading(today)
        doc.entry(hour(at), render(T("— {what}", what=text), tr), width=13)


def _screenshots(doc: ReportPdf, incident: Incident, folder: Path, tr: gettext.NullTranslations) -> None:
    shots = [a for a in incident.actions if a.kind == "screenshot"]
    doc.heading(T("Screenshots"), keep=40 if shots else KEEP_WITH_HEADING)
    if not shots:
        doc.line(T("No screenshot was taken."))
    for action in shots:
        name, recorded = str(action.detail.get("file", "")), str(action.detail.get("sha256", ""))
        path = folder / name
        size = _image_size(path)
        height = size[1] * min(SHOT_WIDTH / max(size[0], 1), SHOT_MAX_HEIGHT / max(size[1], 1)) if size else 0
        doc.keep(24 + height)
        doc.line(T("{file} — taken on {when}", file=name, when=format_stamp(action.at, tr)), bold=True)
        doc.line(T("SHA-256: {digest}", digest=recorded), size=8)
        doc.line(_shot_check(path, recorded), size=8)
        if size is not None:
            try:
                doc.image(path, *size)
            except Exception as exc:  # fpdf/Pillow raise many kinds on a damaged image
                log.warning("report: screenshot %s not embedded: %s", name, exc)
                doc.line(T("The image could not be shown here; the file is in the evidence folder."), size=8.5)


def _image_size(path: Path) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(path) as image:
            return image.size
    except Exception as exc:  # missing or damaged: the caption says so
        log.warning("report: screenshot %s unreadable: %s", path.name, exc)
        return None


def _shot_check(path: Path, recorded: str) -> Text:
    try:
        actual = evidence.sha256_file(path)
    except OSError:
        return T("The file is missing from the evidence folder.")
    if actual == recorded:
        return T("Fingerprint checked again when this report was made: unchanged since the capture.")
    return T("Warning: the file changed since the capture (fingerprint now: {digest}).", digest=actual)


def _contacts(doc: ReportPdf, incident: Incident, tr: gettext.NullTranslations) -> None:
    doc.heading(T("Who was alerted"))
    for contact in contact_list(incident.contacts):
        called = incident.called_at(contact.key)
        status = T("contacted on {when}, on the user's word", when=format_when(called, tr)) if called else \
            T("not yet")
        doc.keep(14)
        doc.line(T("{who}: {status}", who=contact.title, status=status), bold=True)
        for line in contact.lines[:2]:
            doc.line(line, size=9, indent=5)
    doc.pdf.ln(2)
    doc.line(WHY_REPORT, size=9)


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
        name, folder = _name_and_folder(str(item.get("path", "")))
        # The name first: a long folder wraps at the end of the line, never inside the file's name.
        doc.line(f"{when}  {name}  ({render(reason, tr)})  {folder}", size=8)
    if len(files) > MAX_FILES_LISTED:
        doc.line(T("… and {n} more in the evidence folder.", n=len(files) - MAX_FILES_LISTED), size=8)


def _name_and_folder(path: str) -> tuple[str, str]:
    """A Windows or POSIX path split into its last part and what holds it."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name, path[: len(path) - len(name)].rstrip("\\/")


def _journal(doc: ReportPdf, events: list, tr: gettext.NullTranslations) -> None:
    doc.heading(T("Annex: Vigie's journal as recorded"))
    doc.line(T("For the experts: each event with its name and data as Vigie stored them (file vigie-journal.json "
               "in the evidence folder). The timeline above says the same in words."), size=8.5)
    if not events:
        doc.line(T("Nothing recorded."))
    for event in events[-MAX_JOURNAL_LISTED:]:
        if isinstance(event, dict):
            at = _parse_time(event.get("at"))
            doc.line(f"{format_stamp(at, tr) if at else ''}  {journal_text(event)}", size=7.5)


def _manifest(doc: ReportPdf, folder: Path) -> None:
    """The closing page: every evidence file, its fingerprint, and how anyone can check them."""
    doc.page_break()
    doc.heading(T("Evidence files and their SHA-256 fingerprints"))
    doc.line(T("Evidence folder on this computer: {path}", path=str(folder)), size=8.5)
    try:
        entries = evidence.read_manifest(folder)
    except OSError:
        entries = {}
    doc.pdf.ln(1)
    for name, digest in entries.items():
        doc.keep(9)
        doc.line(name, size=8.5, bold=True)
        doc.line(digest, size=7.5, indent=5)
    doc.line(T("This report is added to SHA256SUMS.txt right after it is made: its own fingerprint is therefore "
               "not in the list above."), size=8.5)
    doc.heading(T("How to check that nothing changed"), keep=40)
    doc.line(T("The file SHA256SUMS.txt, in the evidence folder (and in the zip file made for the IT provider), "
               "holds these fingerprints. Open a terminal in that folder, then:"), size=9.5)
    for label, command in (
        (T("Linux:"), "sha256sum -c SHA256SUMS.txt"),
        (T("macOS:"), "shasum -a 256 -c SHA256SUMS.txt"),
        (T("Windows (PowerShell):"), "Get-Content SHA256SUMS.txt | ForEach-Object { $h, $f = $_ -split '\\s+', 2; "
                                     "\"$f : $((Get-FileHash -Algorithm SHA256 -LiteralPath $f).Hash -eq $h)\" }"),
    ):
        doc.keep(12)
        doc.line(label, size=9.5, bold=True)
        doc.line(command, size=8.5, indent=5)
    doc.line(T("Linux and macOS print “OK” after each file that is unchanged; Windows prints “True”. Any other "
               "answer means the file is missing or was changed. For one file on Windows: "
               "Get-FileHash -Algorithm SHA256 FILE, then compare with the list above."), size=9)


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
