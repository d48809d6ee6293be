"""`vigie incident …`: open or resume the guide (also from a terminal, so an IT provider can start it
remotely), print the open incident, write its PDF report, close it, check the network is cut.
Run by vigie.cli; the agent never imports this module."""

from __future__ import annotations

import argparse
import gettext
import json
import logging
import sys
from datetime import datetime
from pathlib import Path

from vigie import filenames
from vigie.features.incident import network
from vigie.features.incident.contacts import IncidentContacts, configured_contacts, contact_list
from vigie.features.incident.deadlines import Deadline, deadlines, remaining_text
from vigie.features.incident.report import STEP_TITLES, format_when, write_report
from vigie.features.incident.state import (
    DISK_FULL,
    NETWORK_STEP,
    STEPS,
    VERIFIED,
    Action,
    Incident,
    IncidentError,
    IncidentStore,
    start_incident,
)
from vigie.i18n import render, resolve_language, translator
from vigie.journal import open_journal
from vigie.model import TN, T, Text
from vigie.platform.base import PlatformError

log = logging.getLogger(__name__)
EXIT_OK, EXIT_CONNECTED, EXIT_ERROR, EXIT_UNKNOWN = 0, 1, 2, 3
NO_INCIDENT = T("No incident is open.")


def add_parser(sub: argparse._SubParsersAction) -> None:
    incident = sub.add_parser("incident", help=T("\"Do you think you are under attack?\": open the guide "
                                                 "(no action), follow the incident, write the report"))
    actions = incident.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("status", help=T("the open incident and the time left for the complaint and the CNIL"))
    actions.add_parser("report", help=T("write the incident's PDF report and say where it is"))
    export = actions.add_parser("export", help=T("write the evidence as one .zip file (with its fingerprints) in "
                                                 "FOLDER, a USB stick for example, then check it"))
    export.add_argument("destination", type=Path, metavar=T("FOLDER"))
    actions.add_parser("close", help=T("end the incident (it is archived, never erased)"))
    check = actions.add_parser("network", help=T("check that the computer has no network connection left"))
    check.add_argument("--json", action="store_true", help=T("JSON output"))


def now() -> datetime:
    return datetime.now().astimezone()


def run_command(args: argparse.Namespace) -> int:
    if args.action == "network":  # no settings needed: it must work wherever it runs
        return check_network(args.json, translator(resolve_language(args.lang)))
    from vigie.config import ConfigStore

    loaded = ConfigStore().load()
    language = resolve_language(args.lang, loaded.config.general.language)
    tr = translator(language)
    store = IncidentStore()
    try:
        if args.action == "status":
            return print_status(store, tr)
        if args.action == "report":
            return make_report(store, tr, configured_contacts(loaded.config))
        if args.action == "export":
            return export(store, args.destination, tr)
        if args.action == "close":
            return close(store, tr)
        return open_guide(store, language, configured_contacts(loaded.config), tr)
    except IncidentError as exc:  # IncidentNotSaved included: it says what happened and what to do
        log.error("incident command failed: %s", exc)
        return _fail(exc.reason, tr)
    except OSError as exc:  # a write refused half-way (a full disk): the state holds the last complete change
        log.error("incident command failed: %s", exc)
        return _fail(_write_failure(exc), tr)


def open_guide(store: IncidentStore, language: str, contacts: IncidentContacts,
               tr: gettext.NullTranslations) -> int:
    incident, created = start_incident(now(), contacts, store)
    _say(T("Incident opened.") if created else T("Incident resumed."), tr)
    _print_incident(incident, store, tr)
    try:
        from vigie.features.incident import window as incident_guide
        from vigie.ui.tk_support import install_signal_handlers
    except ImportError as exc:  # a Python without Tk
        log.error("incident guide unavailable: %s", exc)
        return _fail(T("The guide window cannot open on this computer; the incident is recorded."), tr)
    return incident_guide.run(language, install_signal_handlers(), store, announce=False)


def print_status(store: IncidentStore, tr: gettext.NullTranslations) -> int:
    incident = store.find_open()
    if incident is None:
        _say(NO_INCIDENT, tr)
        return EXIT_OK
    _print_incident(incident, store, tr)
    return EXIT_OK


def _print_incident(incident: Incident, store: IncidentStore, tr: gettext.NullTranslations) -> None:
    complaint, cnil = deadlines(incident.detected_at, now())
    contacted = [render(c.title, tr) for c in contact_list(incident.contacts) if incident.called_at(c.key)]
    shots = sum(1 for action in incident.actions if action.kind == "screenshot")
    lines = [
        T("Incident in progress: {id}", id=incident.id),
        T("Detected on {when}", when=format_when(incident.detected_at, tr)),
        T("Current step: {n} of {total} — {title}", n=incident.step_number, total=len(STEPS),
          title=STEP_TITLES.get(incident.step, STEP_TITLES[STEPS[0]])),
        T("Complaint (Code des assurances, L12-10-1): {state}", state=deadline_state(complaint, tr)),
        T("CNIL notification (RGPD, article 33): {state}", state=deadline_state(cnil, tr)),
        T("Notes: {notes} · screenshots: {shots} · contacted: {contacted}", notes=len(incident.notes), shots=shots,
          contacted=", ".join(contacted) or "—"),
        T("Evidence folder: {path}", path=str(store.folder(incident.id) / "evidence")),
    ]
    for line in lines:
        _say(line, tr)


def deadline_state(deadline: Deadline, tr: gettext.NullTranslations) -> Text:
    when = format_when(deadline.due, tr)
    if deadline.overdue:
        return T("overdue since {when}", when=when)
    return T("{left} left, until {when}", left=remaining_text(deadline), when=when)


def make_report(store: IncidentStore, tr: gettext.NullTranslations, contacts: IncidentContacts | None = None) -> int:
    from vigie.features.incident import evidence

    incident = store.find_open()
    if incident is None:
        return _fail(NO_INCIDENT, tr)
    incident = store.update_contacts(incident, contacts)  # the practice as named in the settings now
    journal, _problem = open_journal()
    try:
        evidence.collect(store, incident.id, now(), journal)
        path = write_report(store, incident.id, now(), tr)
    except OSError as exc:
        log.error("incident report not written: %s", exc)
        if exc.errno in DISK_FULL:
            return _fail(_write_failure(exc), tr)
        return _fail(T("The report could not be written: {reason}", reason=exc.strerror or str(exc)), tr)
    finally:
        journal.close()
    _say(T("The report is ready: {path}", path=str(path)), tr)
    _say(T("It sits in the incident's evidence folder, with the screenshots, the notes and their fingerprints."),
         tr)
    _say(T("To hand everything to your IT provider or an expert, on a USB drive for example: "
           "vigie incident export FOLDER"), tr)
    return EXIT_OK


def export(store: IncidentStore, destination: Path, tr: gettext.NullTranslations) -> int:
    """The evidence as one zip file, read back and checked (issue 19, point 7)."""
    from vigie.features.incident import evidence

    incident = store.find_open()
    if incident is None:
        return _fail(NO_INCIDENT, tr)
    if not destination.is_dir():
        return _fail(T("This folder does not exist: {path}", path=str(destination)), tr)
    try:
        result = evidence.export_zip(store, incident.id, destination, now())
    except evidence.EvidenceError as exc:
        return _fail(exc.reason, tr)
    if not result.verified:
        _fail(TN("The zip file was written, but {n} file differs once read back: use another drive.",
                 "The zip file was written, but {n} files differ once read back: use another drive.",
                 len(result.problems)), tr)
        return EXIT_ERROR
    _say(TN("Evidence written and checked: {n} file, with their fingerprints, in {path}",
            "Evidence written and checked: {n} files, with their fingerprints, in {path}", result.files,
            path=str(result.path)), tr)
    _say(T("SHA-256 of the zip file: {digest}", digest=result.sha256), tr)
    return EXIT_OK


def close(store: IncidentStore, tr: gettext.NullTranslations) -> int:
    incident = store.find_open()
    if incident is None:
        return _fail(NO_INCIDENT, tr)
    journal, _problem = open_journal()
    try:
        archived = store.close(incident.id, now(), journal)
    finally:
        journal.close()
    _say(T("Incident closed. Everything is kept in: {path}", path=str(archived)), tr)
    return EXIT_OK


def check_network(as_json: bool, tr: gettext.NullTranslations) -> int:
    try:
        state = network.read_state()
    except PlatformError as exc:
        log.error("network state unreadable: %s", exc)
        return _fail(exc.reason, tr, EXIT_UNKNOWN)
    _note_check(state)
    if as_json:
        print(json.dumps({"cut": state.cut, "connected": list(state.connected),
                          "default_via": list(state.default_via), "kinds": dict(state.kinds)}))
    elif state.cut:
        _say(T("Network cut: no connection left."), tr)
    else:
        _say(T("Still connected: {connections}", connections=network.connections_text(state, with_names=True)), tr)
    return EXIT_OK if state.cut else EXIT_CONNECTED


def _note_check(state: network.NetworkState) -> None:
    """A check made during an incident goes into its timeline; a cut read here verifies step 1 (the IT
    provider may run it remotely)."""
    store = IncidentStore()
    incident = store.find_open()
    if incident is None:
        return
    at = now()
    try:
        with store.change(incident.id) as changed:
            changed.actions.append(Action("network_check", at, network.check_detail(state)))
            if state.cut:
                changed.mark_step(NETWORK_STEP, at, VERIFIED)
    except (OSError, IncidentError) as exc:
        log.warning("network check not added to the incident: %s", exc)


def _write_failure(exc: OSError) -> Text:
    if exc.errno in DISK_FULL:
        return T("The disk is full: Vigie cannot write on it. Free some space (empty the trash, delete large "
                 "downloads) or call your IT provider, then try again.")
    return T("Vigie could not write on the disk: {reason}. Call your IT provider.", reason=exc.strerror or str(exc))


def _say(text: Text, tr: gettext.NullTranslations) -> None:
    print(filenames.readable(render(text, tr)))  # a path may hold undecodable bytes: spelt out, not a crash


def _fail(text: Text, tr: gettext.NullTranslations, code: int = EXIT_ERROR) -> int:
    print(filenames.readable(render(text, tr)), file=sys.stderr)
    return code
