"""Issue 8's core on real things: the state on disk, the journal, the two deadlines (injected clock),
the network check inside a network namespace the test creates (never the machine's own network), a
real screenshot of Xvfb, a real home folder with encrypted-looking files, the PDF read back with
pdftotext, and the `vigie incident …` commands as subprocesses.

French expectations are the translations proposed for vigie.po (see the helper's report).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

import harness
from fixture_files import load_fixture
from support.netns import Namespace
from support.small_disk import SmallDisk
from vigie.features.incident import deadlines as dl
from vigie.features.incident import evidence, network, report, scan
from vigie.features.incident.contacts import IncidentContacts, contact_list, region_of
from vigie.features.incident.state import (
    DECLARED,
    READ,
    STEPS,
    VERIFIED,
    Action,
    IncidentError,
    IncidentStore,
    Mark,
    Note,
)
from vigie.i18n import render, translator
from vigie.journal import Journal
from vigie.platform import linux, parsers
from vigie.platform.base import NetworkState, PlatformError

NBSP = "\u00a0"
FR, EN = translator("fr"), translator("en")
PARIS = ZoneInfo("Europe/Paris")
DETECTED = datetime(2026, 11, 20, 9, 30, tzinfo=PARIS)
CONTACTS = IncidentContacts(it_name="InfoCabinet", it_phone="01 23 45 67 89", insurer_name="Mutuelle Pro",
                            insurer_phone="09 87 65 43 21", policy_number="CY-2026-0042")
SECRETS = ("SECRET-PATIENT-DUPONT-1958", "SECRET-ORDONNANCE-42", "SECRET-NOTE-RANSOM-BODY")


def fr(text: str) -> str:
    """~ marks the no-break space of French typography in the expected strings."""
    return text.replace("~", NBSP)


@pytest.fixture
def store(tmp_path: Path) -> IncidentStore:
    return IncidentStore(tmp_path / "incidents")


@pytest.fixture
def journal(tmp_path: Path):
    opened = Journal(tmp_path / "journal.sqlite3")
    yield opened
    opened.close()


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


# --- the two 72-hour deadlines, injected clock ---

@pytest.mark.parametrize(("elapsed", "left", "overdue", "long_fr", "short_fr"), [
    (timedelta(0), timedelta(hours=72), False, "72~h 00~min", "72~h"),
    (timedelta(hours=71), timedelta(hours=1), False, "1~h 00~min", "1~h"),
    (timedelta(hours=71, minutes=30, seconds=59), timedelta(minutes=29, seconds=1), False, "29~min", "29~min"),
    (timedelta(hours=73), timedelta(hours=-1), True, "délai dépassé", "délai dépassé"),
], ids=["0h", "71h", "71h30", "73h"])
def test_deadlines_with_an_injected_clock(elapsed, left, overdue, long_fr, short_fr):
    complaint, cnil = dl.deadlines(DETECTED, DETECTED + elapsed)
    assert (complaint.kind, cnil.kind) == (dl.Kind.COMPLAINT, dl.Kind.CNIL)
    for deadline in (complaint, cnil):
        assert deadline.due == DETECTED + timedelta(hours=72)
        assert deadline.remaining == left
        assert deadline.overdue is overdue
        assert render(dl.remaining_text(deadline), FR) == fr(long_fr)
        assert render(dl.remaining_text(deadline, short=True), FR) == fr(short_fr)


def test_deadline_texts_in_english_round_down():
    complaint, _ = dl.deadlines(DETECTED, DETECTED + timedelta(hours=30, minutes=47, seconds=59))
    assert render(dl.remaining_text(complaint), EN) == "41 h 12 min"  # 41 h 12 min 01 s left
    assert render(dl.remaining_text(complaint, short=True), EN) == "41 h"


def test_deadline_counts_real_hours_across_the_summer_time_change():
    detected = datetime(2026, 10, 24, 12, 0, tzinfo=PARIS)  # clocks go back on the 25th at 03:00
    now = (detected.astimezone(UTC) + timedelta(hours=71)).astimezone(PARIS)
    complaint, _ = dl.deadlines(detected, now)
    assert complaint.remaining == timedelta(hours=1)
    assert complaint.due.astimezone(PARIS).hour == 11  # 72 real hours = 11:00 local time on the 27th


def test_tooltip_summary_only_while_an_incident_is_open(store, journal):
    assert dl.open_incident_summary(DETECTED, store) is None
    incident, created = store.start(DETECTED, CONTACTS, journal)
    assert created
    summary = dl.open_incident_summary(DETECTED + timedelta(hours=30, minutes=59), store)
    assert render(summary, FR) == fr("Incident en cours — plainte~: 41~h, CNIL~: 41~h")
    assert render(summary, EN) == "Incident in progress — complaint: 41 h, CNIL: 41 h"
    late = dl.open_incident_summary(DETECTED + timedelta(hours=73), store)
    assert render(late, FR) == fr("Incident en cours — plainte~: délai dépassé, CNIL~: délai dépassé")
    store.close(incident.id, DETECTED + timedelta(hours=80), journal)
    assert dl.open_incident_summary(DETECTED + timedelta(hours=81), store) is None


def test_the_watch_sees_every_change_and_the_status_card_follows(store, journal):
    """What the agent's watch (watch.py) and the status window's card read, on a real folder: each open, change
    and close changes the signature; the card names the step and the countdowns (issue 19, point 4)."""
    from vigie.features.incident.watch import signature

    empty = signature(store)
    assert dl.status_card(DETECTED, store) is None
    incident, _ = store.start(DETECTED, CONTACTS, journal)
    opened = signature(store)
    assert opened != empty
    with store.change(incident.id) as changed:
        changed.step = "evidence"
    stepped = signature(store)
    assert stepped != opened
    title, left, hint = (render(text, FR) for text in dl.status_card(DETECTED + timedelta(hours=1), store))
    assert title == "Incident en cours — étape 4 sur 7"
    assert left == fr("Temps restant — plainte~: 71~h 00~min · CNIL~: 71~h 00~min")
    assert "«~Reprendre le guide de l’incident~»".replace("~", NBSP) in hint
    store.close(incident.id, DETECTED + timedelta(hours=2), journal)
    assert signature(store) not in (stepped, opened) and dl.status_card(DETECTED, store) is None


# --- the state on disk ---

def test_opening_records_the_detection_and_resumes_the_same_incident(store, journal):
    incident, created = store.start(DETECTED, CONTACTS, journal)
    folder = store.folder(incident.id)
    assert created and incident.id == "20261120-093000"
    assert mode(folder) == 0o700 and mode(folder / "incident.json") == 0o600
    assert mode(store.evidence_dir(incident.id)) == 0o700
    again, created_again = store.start(DETECTED + timedelta(hours=2), None, journal)
    assert not created_again and again.id == incident.id and again.detected_at == DETECTED
    assert again.contacts == CONTACTS  # no contacts given: the stored ones stay
    opened = journal.events("incident_opened")
    assert [(at, data) for at, _kind, data in opened] == [(DETECTED.isoformat(), {"id": incident.id})]


def test_every_change_is_persisted_and_read_back(store, journal):
    incident, _ = store.start(DETECTED, CONTACTS, journal)
    later = DETECTED + timedelta(minutes=12)
    with store.change(incident.id) as changed:
        changed.step = "dont_pay"
        changed.mark_step("keep_on", later)
        changed.mark_step("keep_on", later + timedelta(hours=1))  # only the first time counts
        changed.mark_step("cut_network", later, READ)
        changed.mark_step("cut_network", later + timedelta(minutes=1), VERIFIED)  # a proof replaces « read »
        changed.mark_step("cut_network", later + timedelta(minutes=2), DECLARED)  # never the other way round
        changed.notes.append(Note(later, "Écran rouge « payez 2 BTC » sur le poste d’accueil"))
        changed.calls.append(Mark("it_provider", later))
        changed.actions.append(Action("network_check", later, {"cut": True, "interfaces": ""}))
    loaded = IncidentStore(store.root).load(incident.id)
    assert loaded == changed
    assert loaded.step_number == 3 and loaded.step_done_at("keep_on") == later
    assert loaded.step_mark("keep_on").how == READ
    assert loaded.step_mark("cut_network") == Mark("cut_network", later + timedelta(minutes=1), VERIFIED)
    assert [m.how for m in loaded.steps_done if m.what == "cut_network"] == [READ, VERIFIED]  # both times kept
    assert loaded.called_at("it_provider") == later and loaded.called_at("insurer") is None
    raw = json.loads((store.folder(incident.id) / "incident.json").read_text(encoding="utf-8"))
    assert raw["schema"] == "vigie-incident/1" and raw["detected_at"] == "2026-11-20T09:30:00+01:00"


def test_closing_archives_and_never_deletes(store, journal):
    incident, _ = store.start(DETECTED, CONTACTS, journal)
    (store.evidence_dir(incident.id) / "kept.txt").write_text("x")
    archived = store.close(incident.id, DETECTED + timedelta(days=2), journal)
    assert archived == store.root / "archive" / incident.id
    assert (archived / "evidence" / "kept.txt").read_text() == "x"
    closed = store.load(incident.id, archived)
    assert closed.closed and closed.closed_at == DETECTED + timedelta(days=2)
    assert store.find_open() is None and store.archived() == [incident.id]
    assert [data for _at, _kind, data in journal.events("incident_closed")] == [{"id": incident.id}]
    with pytest.raises(IncidentError):
        store.close(incident.id, DETECTED + timedelta(days=3), journal)
    second, created = store.start(DETECTED, None, journal)  # same second: a new id all the same
    assert created and second.id == "20261120-093000-2"


def test_an_unreadable_state_is_kept_and_skipped(store, journal):
    incident, _ = store.start(DETECTED, None, journal)
    state = store.folder(incident.id) / "incident.json"
    state.write_text("{ cut in the midd")
    assert store.find_open() is None
    fresh, created = store.start(DETECTED + timedelta(hours=1), None, journal)
    assert created and fresh.id != incident.id
    assert state.read_text() == "{ cut in the midd"  # left for the IT provider to look at
    with pytest.raises(IncidentError):
        store.folder("../../etc")


def test_contacts_are_listed_in_calling_order_in_french():
    listed = contact_list(CONTACTS)
    assert [c.key for c in listed] == ["it_provider", "17cyber", "ars", "insurer"]
    texts = [render(c.title, FR) for c in listed]
    assert texts == ["Votre prestataire informatique", "17Cyber (police et gendarmerie)",
                     "Votre agence régionale de santé (ARS)", "Votre assureur"]
    lines = {c.key: [render(line, FR) for line in c.lines] for c in listed}
    assert lines["it_provider"] == ["Appelez InfoCabinet au 01 23 45 67 89."]
    assert "En cas d’urgence, appelez le 17." in lines["17cyber"]
    assert any("cybermalveillance.gouv.fr" in line for line in lines["17cyber"])
    assert fr("Numéro de contrat~: CY-2026-0042") in lines["insurer"]
    empty = {c.key: [render(line, FR) for line in c.lines] for c in contact_list(IncidentContacts())}
    assert empty["it_provider"] == [fr("Non renseigné~: cherchez son numéro sur une facture ou sur le contrat "
                                       "de maintenance.")]


PHONE = r"\b(?:\d{2}[ .]?){4}\d{2}\b|\b17\b"


@pytest.mark.parametrize("contacts", [CONTACTS, IncidentContacts(), IncidentContacts(it_name="InfoCabinet"),
                                      IncidentContacts(insurer_phone="09 87 65 43 21")], ids=["full", "empty",
                                                                                             "no-phone", "phone-only"])
def test_call_is_said_only_before_a_phone_number(contacts):
    """Issue 19, point 7: « Appelez » above a website sends a frightened user dialling a web address."""
    for contact in contact_list(contacts):
        for line in (render(text, FR) for text in contact.lines):
            calls = "appelez" in line.lower()
            assert calls == bool(re.search(PHONE, line)), line
            if ".gouv.fr" in line:
                assert not calls, line


def test_the_ars_is_named_from_the_practice_postal_code():
    assert region_of("12 rue des Lilas, 33000 Bordeaux") == "Nouvelle-Aquitaine"
    assert region_of("Cabinet, 2 place du Marché\n20000 Ajaccio") == "Corse"
    assert region_of("97400 Saint-Denis") == "La Réunion"
    assert region_of("75011 Paris") == "Île-de-France" and region_of("") is None and region_of("99999 X") is None
    titled = contact_list(IncidentContacts(address="3 avenue Foch, 69006 Lyon", ars_contact="ars-ara-alerte@exemple"))
    ars = next(c for c in titled if c.key == "ars")
    assert render(ars.title, FR) == "Votre agence régionale de santé (ARS Auvergne-Rhône-Alpes)"
    assert [render(line, FR) for line in ars.lines] == [
        "Depuis un autre appareil, signalez l’incident sur signalement.social-sante.gouv.fr.",
        fr("Contact indiqué par votre prestataire~: ars-ara-alerte@exemple")]


# --- the network: pure assessment of real captures ---

def ip_capture(name: str) -> NetworkState:
    doc = json.loads(load_fixture(f"linux-ip-j-{name}.json"))
    routes = parsers.parse_ip_json(doc["route4"]) + parsers.parse_ip_json(doc["route6"])
    return parsers.assess_linux(parsers.parse_ip_json(doc["addr"]), routes)


@pytest.mark.parametrize(("capture", "connected", "default_via", "cut"), [
    ("host", ("eth0",), ("eth0",), False),
    ("netns-connected", ("veth0",), ("veth0",), False),  # the bridge without carrier does not count
    ("netns-local-only", ("veth0",), (), False),  # no internet, but the practice's network is still reachable
    ("netns-cut", (), (), True),
])
def test_assessment_of_real_ip_captures(capture, connected, default_via, cut):
    state = ip_capture(capture)
    assert (state.connected, state.default_via, state.cut) == (connected, default_via, cut)


def test_assessment_edge_cases():
    up = {"ifname": "wlan0", "flags": ["BROADCAST", "UP", "LOWER_UP"], "link_type": "ether",
          "addr_info": [{"family": "inet", "local": "192.168.1.20", "scope": "global"}]}
    tunnel = {"ifname": "tun0", "flags": ["POINTOPOINT", "UP", "LOWER_UP"], "link_type": "none",
              "addr_info": [{"family": "inet", "local": "10.8.0.2", "scope": "global"}]}
    multipath = {"dst": "default", "nexthops": [{"gateway": "192.168.1.1", "dev": "wlan0"},
                                                {"gateway": "10.8.0.1", "dev": "tun0"}], "flags": []}
    state = parsers.assess_linux([up, tunnel], [multipath])
    assert state.default_via == ("wlan0", "tun0") and state.connected == ("wlan0", "tun0")
    unreachable = {"type": "unreachable", "dst": "default", "flags": []}
    linkdown = {"dst": "default", "gateway": "192.168.1.1", "dev": "wlan0", "flags": ["linkdown"]}
    assert parsers.assess_linux([up], [unreachable, linkdown]).cut
    only_link_local = dict(up, addr_info=[{"family": "inet6", "local": "fe80::1", "scope": "link"}])
    assert parsers.assess_linux([only_link_local], [{"dst": "fe80::/64", "dev": "wlan0", "flags": []}]).cut
    with pytest.raises(PlatformError):
        parsers.parse_ip_json("{not json")


def test_windows_and_macos_parsers():
    # ConvertTo-Json: nothing for no route, an object for one, a list for several (PowerShell 5.1 and 7)
    assert parsers.parse_windows_routes("") == ()
    assert parsers.parse_windows_routes('{"InterfaceAlias":"Wi-Fi","NextHop":"192.168.1.1"}') == ("Wi-Fi",)
    both = '[{"InterfaceAlias":"Ethernet","NextHop":"10.0.0.1"},{"InterfaceAlias":"Ethernet","NextHop":"fe80::1"}]'
    assert parsers.parse_windows_routes(both) == ("Ethernet",)
    assert parsers.parse_route_get(load_fixture("macos-route-get-default.txt")) == "en1"
    assert parsers.parse_route_get("route: writing to routing socket: not in table\n") is None
    ports = parsers.parse_hardware_ports(load_fixture("macos-networksetup-listallhardwareports.txt"))
    assert ("Wi-Fi", "en0") in ports and ("Thunderbolt Bridge", "bridge0") in ports
    services = parsers.parse_network_services(load_fixture("macos-networksetup-listallnetworkservices.txt"))
    assert services == ["Wi-Fi", "USB 10/100/1000 LAN", "Thunderbolt Bridge", "iPhone USB"]  # *Bluetooth PAN is off


def test_psutil_view_agrees_with_ip_on_this_machine():
    import psutil

    from_ip = linux.read_network()
    from_psutil = parsers.addressed_interfaces(psutil.net_if_stats(), psutil.net_if_addrs())
    assert set(from_ip.connected) <= set(from_psutil)
    assert "lo" not in from_psutil


@pytest.mark.parametrize(("system", "desktop", "where"), [
    ("linux", "ubuntu:GNOME", "en haut à droite de l’écran (réseau, son, batterie)"),
    ("linux", "KDE", "près de l’horloge, en bas à droite de l’écran"),
    ("linux", "X-Cinnamon", "près de l’horloge, en bas à droite de l’écran"),
    ("linux", "XFCE", "à droite de la barre des tâches (en bas ou en haut de l’écran)"),
    ("linux", "MATE", "à droite de la barre des tâches (en bas ou en haut de l’écran)"),
    ("linux", "", "en général à droite d’une barre, en haut ou en bas de l’écran"),
    ("windows", "", "en bas à droite de l’écran, puis sur «~Mode Avion~»"),
    ("macos", "", "barre des menus, en haut à droite"),
])
def test_where_the_wifi_icon_is_depends_on_the_desktop(system, desktop, where):
    """Issue 19, point 3: « en haut à droite » is GNOME's place only."""
    steps = [render(step, FR) for step in network.manual_steps(system, desktop)]
    assert steps[0].startswith(fr("Câble~: débranchez le câble réseau de l’ordinateur"))
    assert steps[1].startswith(fr("Wi-Fi~:")) and fr(where) in steps[1], steps[1]
    if desktop not in ("ubuntu:GNOME", ""):
        assert "en haut à droite" not in steps[1]


def test_connections_are_named_in_plain_words_from_a_real_capture():
    """`ip -j -d addr` of a namespace with a veth (the cable) and a tun device (a VPN): each link's kind;
    Wi-Fi, mobile and a phone come from sysfs facts (no such hardware here: the facts are given)."""
    doc = json.loads(load_fixture("linux-ip-j-d-netns-kinds.json"))
    links = {link["ifname"]: link for link in parsers.parse_ip_json(doc["addr"])}
    assert parsers.linux_connection_kind(links["veth0"], {}) == "wired"
    assert parsers.linux_connection_kind(links["tun0"], {}) == "vpn"
    assert parsers.linux_connection_kind(links["veth0"], {"wireless": "1"}) == "wifi"
    assert parsers.linux_connection_kind(links["veth0"], {"devtype": "wwan"}) == "mobile"
    assert parsers.linux_connection_kind(links["veth0"], {"driver": "rndis_host"}) == "phone"
    routes = parsers.parse_ip_json(doc["route4"]) + parsers.parse_ip_json(doc["route6"])
    state = parsers.assess_linux(links.values(), routes, {"veth0": {}})
    assert (state.connected, state.kinds) == (("veth0",), (("veth0", "wired"),))
    assert render(network.connections_text(state), FR) == "câble"
    assert render(network.connections_text(state, with_names=True), FR) == "câble (veth0)"
    both = NetworkState(("eth0", "wlan0", "eth1"), (), (("eth0", "wired"), ("wlan0", "wifi"), ("eth1", "wired")))
    assert render(network.connections_text(both), FR) == "câble, Wi-Fi"


def test_windows_and_macos_connections_in_plain_words():
    """The pure halves of read_network on Windows (adapter aliases, Windows' default names) and macOS (a real
    `networksetup -listallhardwareports`); the OS calls around them cannot run here."""
    from vigie.platform import macos, windows

    state = windows.windows_network_state(["Ethernet", "Wi-Fi 2"], ["Wi-Fi 2"])
    assert state.kinds == (("Wi-Fi 2", "wifi"), ("Ethernet", "wired"))
    assert parsers.windows_connection_kind("Connexion au réseau local") == "wired"
    assert parsers.windows_connection_kind("Cellulaire") == "mobile"
    assert parsers.windows_connection_kind("Bureau") == "other"
    ports = parsers.parse_hardware_ports(load_fixture("macos-networksetup-listallhardwareports.txt"))
    mac = macos.macos_network_state(["en0", "utun3"], ["en0"], ports)
    assert mac.kinds == (("en0", "wifi"), ("utun3", "vpn"))


def test_linux_capability_is_read_from_proc_status():
    status = "Name:\tpython\nCapEff:\t000001fffeffffff\n"
    assert parsers.has_capability(status, parsers.CAP_NET_ADMIN)
    assert not parsers.has_capability("CapEff:\t0000000000000000\n", parsers.CAP_NET_ADMIN)
    assert not parsers.has_capability("CapEff:\tzz\n", parsers.CAP_NET_ADMIN)


# --- the network: for real, inside a namespace made by the test ---

@pytest.fixture
def netns():
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (CI runs as root)")
    host_before = linux.read_network()
    ns = Namespace()
    try:
        yield ns
    finally:
        ns.remove()
        assert linux.read_network() == host_before  # the machine's own network is as it was


def vigie_in(ns: Namespace, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ns.prefix, *harness.vigie_argv(), *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_network_check_inside_a_namespace(netns, home_env):
    """The same check, first through the injectable argv prefix, then as `vigie incident network` run
    inside the namespace: connected, then local only, then cut once the link is down."""
    state = linux.read_network(netns.prefix)
    assert (state.connected, state.default_via, state.cut) == (("veth0",), ("veth0",), False)
    result = vigie_in(netns, home_env, "incident", "network", "--json")
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout) == {"cut": False, "connected": ["veth0"], "default_via": ["veth0"],
                                         "kinds": {"veth0": "wired"}}
    said = vigie_in(netns, home_env, "incident", "network")
    assert said.stdout == fr("Encore connecté~: câble (veth0)\n")

    netns.ip("route", "del", "default")
    netns.ip("-6", "route", "del", "default")
    state = linux.read_network(netns.prefix)
    assert (state.connected, state.default_via, state.cut) == (("veth0",), (), False)

    netns.ip("link", "set", "veth0", "down")  # the cable pulled out
    assert linux.read_network(netns.prefix).cut
    result = vigie_in(netns, home_env, "incident", "network")
    assert result.returncode == 0, result.stderr
    assert result.stdout == fr("Réseau coupé~: plus aucune connexion.\n")


def test_network_check_is_added_to_the_open_incident(netns, home_env):
    data = Path(home_env["XDG_DATA_HOME"]) / "Vigie"
    store = IncidentStore(data / "incidents")
    with contextlib.closing(Journal(data / "journal.sqlite3")) as journal:
        store.start(datetime.now().astimezone(), None, journal)
    assert vigie_in(netns, home_env, "incident", "network").returncode == 1
    netns.ip("link", "set", "veth0", "down")
    assert vigie_in(netns, home_env, "incident", "network").returncode == 0
    incident = store.find_open()
    checks = [a.detail for a in incident.actions if a.kind == "network_check"]
    assert checks == [{"cut": False, "interfaces": "veth0", "kinds": "veth0=wired"},
                      {"cut": True, "interfaces": "", "kinds": ""}]
    assert incident.step_mark("cut_network").how == VERIFIED  # read as cut by Vigie: step 1 is verified


def in_namespace(ns: Namespace, code: str, env: dict[str, str] | None = None,
                 prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Python run inside the namespace: anything that cuts a network must never run on the machine's own."""
    return subprocess.run([*ns.prefix, *prefix, sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)


def test_vigie_cuts_a_namespace_with_ip_link_when_it_has_the_right(netns):
    """As root (CAP_NET_ADMIN) without NetworkManager, ConnMan or rfkill: the button is offered, and the cut
    is `ip link set … down`, read back as cut."""
    code = ("from vigie.platform.linux import LinuxPlatform, cut_linux, read_network; p = LinuxPlatform(); "
            "print(p.can_cut_network()); print(cut_linux()); print(read_network().cut)")
    result = in_namespace(netns, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["True", "ip link set dev veth0 down", "True"]
    assert linux.read_network(netns.prefix).cut


def test_without_any_way_to_cut_vigie_does_not_offer_to(netns):
    """Issue 19, point 2: without CAP_NET_ADMIN (dropped with setpriv), NetworkManager, ConnMan or rfkill,
    can_cut_network is False (the guide shows no button), and a cut asked anyway says so in one sentence."""
    drop = ("setpriv", "--inh-caps=-all", "--bounding-set=-net_admin")
    code = ("from vigie.platform.linux import LinuxPlatform; from vigie.features.incident import network; "
            "from vigie.i18n import render, translator; p = LinuxPlatform(); print(p.can_cut_network()); "
            "r = network.cut_network(p); print(r.done, render(r.reason, translator('fr')))")
    result = in_namespace(netns, code, prefix=drop)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["False", "False Vigie n’a aucun moyen de couper le réseau sur cet "
                                                   "ordinateur."]
    assert not linux.read_network(netns.prefix).cut  # nothing was cut


FAKE_TOOL = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$*" in "-t -f RUNNING general") echo running;; esac
"""


def test_the_network_managers_are_asked_first_then_the_links(netns, tmp_path):
    """The order: NetworkManager, ConnMan, the links (ip), the radios (rfkill), stopping once the network
    reads as cut. nmcli and connmanctl are not installed here: stand-ins on PATH record their calls and
    cut nothing (the only fakes: the tools we cannot run), so the real `ip link` comes last and cuts."""
    tools = tmp_path / "bin"
    tools.mkdir()
    calls = tmp_path / "calls.txt"
    for name in ("nmcli", "connmanctl", "rfkill"):
        (tools / name).write_text(FAKE_TOOL.format(log=calls))
        (tools / name).chmod(0o755)
    env = dict(os.environ, PATH=f"{tools}:{os.environ['PATH']}")
    result = in_namespace(netns, "from vigie.platform.linux import cut_linux; print(cut_linux())", env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "nmcli networking off, connmanctl enable offline, ip link set dev veth0 down"
    assert calls.read_text().splitlines() == ["nmcli -t -f RUNNING general", "connmanctl state",
                                              "nmcli networking off", "connmanctl enable offline"]
    assert linux.read_network(netns.prefix).cut
    assert not linux.rfkill_usable()  # rfkill needs /dev/rfkill, which this machine has not


# --- evidence ---

RANSOM_BLUE = harness.RANSOM_BLUE


def test_capture_screen_saves_a_real_png_of_xvfb(display, services, store, journal, monkeypatch, tmp_path):
    env = dict(harness.isolated_env(tmp_path / "x"), DISPLAY=display)
    harness.show_ransom_screen(services, env)
    monkeypatch.setenv("DISPLAY", display)
    incident, _ = store.start(DETECTED, None, journal)
    folder = store.evidence_dir(incident.id)
    path, digest = evidence.capture_screen(folder, DETECTED + timedelta(minutes=5))
    assert path == folder / "screenshots" / "screenshot-2026-11-20_09-35-00.png"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (1024, 768)  # the whole Xvfb screen
        assert harness.count_near(image.convert("RGB"), RANSOM_BLUE, 2) >= 400 * 300 * 0.95
    assert mode(path) == 0o600 and mode(path.parent) == 0o700 and mode(folder) == 0o700
    assert digest == evidence.sha256_file(path)
    second, _ = evidence.capture_screen(folder, DETECTED + timedelta(minutes=5))
    assert second.name == "screenshot-2026-11-20_09-35-00-2.png"  # never overwritten
    evidence.sync(store, incident)
    assert evidence.read_manifest(folder)["screenshots/" + path.name] == digest
    check = subprocess.run(["sha256sum", "--check", "--strict", evidence.MANIFEST], cwd=folder, capture_output=True,
                           text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr  # the standard tool agrees with the manifest
    assert evidence.verify(folder) == ()


def test_capture_failure_says_what_to_do(tmp_path):
    def broken():
        raise OSError("X connection refused")

    with pytest.raises(evidence.EvidenceError) as caught:
        evidence.capture_screen(tmp_path, DETECTED, grab=broken)
    assert render(caught.value.reason, FR) == fr("L’écran n’a pas pu être capturé~: prenez-le en photo avec votre "
                                                 "téléphone.")


def make_home(home: Path, now: datetime) -> dict[str, list[Path]]:
    """A user's folders after an attack, with secrets inside every file, and old or ordinary files around."""
    recent, old = now.timestamp() - 3600, (now - timedelta(days=30)).timestamp()
    layout = {
        "encrypted": [home / "Documents" / "Patients" / f"dossier-{i:02d}.docx.qwkz7" for i in range(12)],
        "known": [home / "Desktop" / "compta-2026.xlsx.lockbit", home / "Documents" / "agenda.odt.locked"],
        "notes": [home / "Documents" / "HOW_TO_RECOVER_FILES.txt", home / "Desktop" / "!!!READ_ME!!!.html",
                  home / "Downloads" / "info.hta", home / "Documents" / "Patients" / "Restore-My-Files.txt"],
        "ordinary": [home / "Documents" / "courrier.pdf", home / "Downloads" / "README.txt",
                     home / "Pictures" / "radio.dcm", *(home / "Documents" / f"scan-{i}.jpg" for i in range(15))],
        "old": [home / "Documents" / f"archive-{i}.docx.qwkz7" for i in range(3)],
        "hidden": [home / ".cache" / "x" / f"blob-{i}.zzz" for i in range(12)],
    }
    for kind, files in layout.items():
        for number, path in enumerate(files):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{SECRETS[number % len(SECRETS)]} {kind} {number}\n", encoding="utf-8")
            stamp = old if kind == "old" else recent
            os.utime(path, (stamp, stamp))
    (home / "Documents" / "loop").symlink_to(home / "Documents")  # never followed
    return layout


def test_scan_finds_encrypted_files_and_ransom_notes_by_name_and_time(tmp_path):
    now = datetime.now().astimezone()
    layout = make_home(tmp_path / "home", now)
    result = scan.scan_recent_files([tmp_path / "home" / "Documents", tmp_path / "home"], now)
    found = {Path(f.path): f.reason for f in result.files}
    assert {p: r for p, r in found.items() if r == "unusual_extension"} == dict.fromkeys(layout["encrypted"],
                                                                                         "unusual_extension")
    assert {p for p, r in found.items() if r == "ransom_extension"} == set(layout["known"])
    assert {p for p, r in found.items() if r == "ransom_note"} == set(layout["notes"])
    assert result.total == len(found) == 18 and result.complete
    assert all(p not in found for p in layout["ordinary"] + layout["old"] + layout["hidden"])
    times = {f.modified for f in result.files}
    assert all(abs((t - now).total_seconds() + 3600) < 2 for t in times)  # the files' own times


def test_scan_is_bounded(tmp_path):
    now = datetime.now().astimezone()
    make_home(tmp_path / "home", now)
    capped = scan.scan_recent_files([tmp_path / "home"], now, max_entries=10)
    assert not capped.complete and capped.visited == 11
    ticks = iter(range(1000))
    timed = scan.scan_recent_files([tmp_path / "home"], now, max_seconds=3, clock=lambda: float(next(ticks)))
    assert not timed.complete


@pytest.mark.parametrize(("name", "note"), [
    ("HOW_TO_DECRYPT.txt", True), ("_readme.txt", True), ("!!!READ_ME_MEDUSA!!!.txt", True),
    ("README_FOR_DECRYPT.html", True), ("restore-my-files.txt", True), ("info.hta", True),
    ("YOUR_FILES_ARE_ENCRYPTED.TXT", True), ("README.txt", False), ("readme.md", False),
    ("compte-rendu.txt", False), ("decrypt.exe", False),
])
def test_ransom_note_names(name, note):
    assert scan.note_like(name) is note


def test_evidence_never_holds_file_contents_and_the_copy_is_checked(tmp_path, store, journal):
    now = datetime.now().astimezone()
    home = tmp_path / "home"
    make_home(home, now)
    journal.record("usb_inserted", now - timedelta(days=1), label="CLE_INCONNUE", uuid="1234-ABCD",
                   size_bytes=16_000_000_000, fs_type="vfat")
    journal.record("restore_drill", now - timedelta(days=3), outcome="passed")
    journal.record("usb_inserted", now - timedelta(days=90), label="TROP_VIEILLE", uuid="0", size_bytes=1,
                   fs_type="vfat")
    incident, _ = store.start(now - timedelta(hours=2), CONTACTS, journal)
    result = evidence.collect(store, incident.id, now, journal, [home / "Documents", home])
    assert result.total == 18
    folder = store.evidence_dir(incident.id)
    names = {p.as_posix() for p in evidence.evidence_files(folder)}
    assert names == {"incident.json", "notes.txt", "suspicious-files.json", "system.json", "vigie-journal.json"}
    for path in folder.rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
        if path.is_file():
            assert not any(secret.encode() in path.read_bytes() for secret in SECRETS), path
    extract = json.loads((folder / "vigie-journal.json").read_text(encoding="utf-8"))
    assert [e["kind"] for e in extract] == ["usb_inserted", "restore_drill", "incident_opened"]
    system = json.loads((folder / "system.json").read_text(encoding="utf-8"))
    assert system["host"] == os.uname().nodename and system["os"] == "Linux" and system["booted_at"]
    listed = json.loads((folder / "suspicious-files.json").read_text(encoding="utf-8"))
    assert listed["suspicious_total"] == 18 and {"path", "modified", "reason"} == set(listed["files"][0])

    drive = tmp_path / "usb drive"
    drive.mkdir()
    copy = evidence.copy_evidence(store, incident.id, drive)
    assert copy.verified and copy.path == drive / f"Vigie-evidence-{incident.id}"
    assert mode(copy.path) == 0o700 and mode(copy.path / "notes.txt") == 0o600
    assert evidence.copy_evidence(store, incident.id, drive).path.name.endswith("-2")  # a second copy, apart
    (copy.path / "notes.txt").write_text("changed afterwards")
    assert evidence.verify(copy.path) == ("notes.txt",)
    not_a_folder = tmp_path / "a file"
    not_a_folder.write_text("")
    with pytest.raises(evidence.EvidenceError):
        evidence.copy_evidence(store, incident.id, not_a_folder)


# --- the PDF report ---

def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def ransom_screen(size: tuple[int, int]) -> Image.Image:
    """What a screenshot of a ransom demand looks like: blue, with its message."""
    from PIL import ImageDraw, ImageFont

    image = Image.new("RGB", size, (0, 0, 170))
    if size[0] >= 600:
        font = ImageFont.truetype(str(report.find_font().regular), 40)
        draw = ImageDraw.Draw(image)
        draw.text((60, 250), "VOS FICHIERS SONT CHIFFRÉS", fill="white", font=font)
        draw.text((60, 330), "Payez 2 BTC avant 72 heures", fill=(255, 220, 0), font=font)
    return image


def filled_incident(store: IncidentStore, journal: Journal, now: datetime, contacts: IncidentContacts = CONTACTS,
                    shot_size: tuple[int, int] = (64, 48)) -> str:
    """An incident 30 hours old: step 1 left with « Suivant » while a cable and a Wi-Fi were still up."""
    incident, _ = store.start(now - timedelta(hours=30), contacts, journal)
    folder = store.evidence_dir(incident.id)
    shot, digest = evidence.capture_screen(folder, now - timedelta(hours=29), grab=lambda: ransom_screen(shot_size))
    with store.change(incident.id) as changed:
        changed.mark_step("cut_network", now - timedelta(hours=29, minutes=50), READ)
        changed.actions.append(Action("network_cut", now - timedelta(hours=29, minutes=45),
                                      {"done": False, "method": "linux.cut_network",
                                       "reason": "Vigie n’a aucun moyen de couper le réseau sur cet ordinateur."}))
        changed.actions.append(Action("network_check", now - timedelta(hours=29, minutes=40),
                                      {"cut": False, "interfaces": "eth0, wlan0", "kinds": "eth0=wired, wlan0=wifi"}))
        changed.actions.append(Action("screenshot", now - timedelta(hours=29),
                                      {"file": f"screenshots/{shot.name}", "sha256": digest}))
        changed.notes.append(Note(now - timedelta(hours=28), "Message « vos fichiers sont chiffrés », 2 BTC"))
        changed.calls.append(Mark("it_provider", now - timedelta(hours=27), DECLARED))
    return incident.id


PRACTICE_POLICY = """[practice]
name = "Cabinet médical des Tilleuls"
practitioner = "Dr Claire Martin"
rpps = "10101234567"
address = "12 rue des Lilas, 33000 Bordeaux"
"""
HEADINGS = ["Ce qui a été fait, étape par étape", "Les deux délais de 72~heures", "Chronologie", "Captures d’écran",
            "Qui a été prévenu", "Fichiers récents suspects", "Annexe~: le journal de Vigie, tel qu’enregistré",
            "Les fichiers de preuve et leurs empreintes SHA-256", "Comment vérifier que rien n’a changé"]
EVENT_NAME = r"\b[a-z]+_[a-z_]+\b"  # usb_inserted, network_check, some_future_feature…


def reported_pdf(stdout: str) -> str:
    """The path `vigie incident report` gives in its first line (« Le rapport est prêt : PATH »)."""
    first = stdout.splitlines()[0]
    assert first.startswith(fr("Le rapport est prêt~: ")), stdout
    return first.removeprefix(fr("Le rapport est prêt~: "))


def pdf_pages(path: Path) -> list[str]:
    return pdf_text(path).split("\f")[:-1]


def timeline_text(text: str) -> str:
    """The French timeline of a report: from its heading to the next one."""
    start = text.index("\nChronologie\n")
    return text[start:text.index("\nCaptures d’écran\n", start)]


def test_report_cli_writes_a_usable_private_pdf(home_env, tmp_path):
    """Issue 19, points 5 and 6, on the real CLI with the IT provider's policy naming the practice: a French
    message says where the PDF is; every page names the practice and says « page N sur M »; step 1 says
    « non vérifié » (read, and still connected); the timeline is in words (no JSON, no event names), the raw
    journal is kept as an annex; the screenshot is in the PDF (its image, with its SHA-256); the last page lists
    the evidence files and how to check them; no heading ends a page."""
    policy = harness.policy_file(PRACTICE_POLICY)
    env = dict(home_env, TZ="Europe/Paris", VIGIE_POLICY=str(policy))
    now = datetime.now().astimezone()
    make_home(Path(env["HOME"]), now)
    data = Path(env["XDG_DATA_HOME"]) / "Vigie"
    store, journal = IncidentStore(data / "incidents"), Journal(data / "journal.sqlite3")
    try:
        journal.record("usb_inserted", now - timedelta(days=2), label="CLE_TROUVEE", uuid="AB-CD",
                       size_bytes=16_000_000_000, fs_type="vfat")
        journal.record("usb_choice", now - timedelta(days=2), choice="scan", label="CLE_TROUVEE", uuid="AB-CD")
        journal.record("agent_stopped", now - timedelta(days=1), session="s", reason="signal", detail="SIGTERM")
        journal.record("some_future_feature", now - timedelta(days=1), detail={"nested": True})
        incident_id = filled_incident(store, journal, now, IncidentContacts(), shot_size=(1024, 768))
    finally:
        journal.close()
    result = harness.run_vigie(env, "incident", "report")
    assert result.returncode == 0, result.stderr
    said = result.stdout.splitlines()
    assert said[0].startswith(fr("Le rapport est prêt~: ")) and said[1].startswith("Il est rangé dans le dossier des "
                                                                                  "preuves de l’incident")
    path = Path(said[0].removeprefix(fr("Le rapport est prêt~: ")))
    assert path.parent == store.evidence_dir(incident_id) and path.suffix == ".pdf"
    assert mode(path) == 0o600 and path.read_bytes().startswith(b"%PDF-")
    raw = pdf_text(path)
    text = " ".join(raw.replace(NBSP, " ").split())  # layout spaces and line breaks do not matter here
    shot = next(a for a in store.load(incident_id).actions if a.kind == "screenshot")
    expected = [
        "Rapport d’incident — cyberattaque présumée", "Cabinet médical des Tilleuls", "Dr Claire Martin",
        "Numéro RPPS 10101234567", "12 rue des Lilas, 33000 Bordeaux", "Chronologie",
        "Attaque signalée à Vigie : l’incident est ouvert.",
        "Étape 1 lue (« Suivant » appuyé) : Coupez le réseau, sans éteindre l’ordinateur",
        "Non vérifié : le réseau était encore connecté (câble (eth0), Wi-Fi (wlan0)) lors de la dernière "
        "vérification de Vigie",
        "Réseau vérifié par Vigie : encore connecté (câble (eth0), Wi-Fi (wlan0)).",
        "Vigie n’a pas pu couper le réseau : Vigie n’a aucun moyen de couper le réseau sur cet ordinateur.",
        "Note : Message « vos fichiers sont chiffrés », 2 BTC",
        "Prévenu, selon l’utilisateur : Votre prestataire informatique",
        "Clé USB « CLE_TROUVEE » branchée (16 Go).", "Clé USB « CLE_TROUVEE » : l’utilisateur a demandé une "
        "recherche de virus.", "Vigie a été arrêté par le système", "Autre événement noté par Vigie (annexe, ligne",
        "Votre agence régionale de santé (ARS Nouvelle-Aquitaine)",
        "Plainte (Code des assurances, article L12-10-1)", "Notification à la CNIL (RGPD, article 33)",
        "temps restant à la création de ce rapport : 41 h", shot.detail["file"], shot.detail["sha256"],
        "inchangée depuis la capture", "HOW_TO_RECOVER_FILES.txt", "dossier-00.docx.qwkz7",
        "ressemble à une demande de rançon", "sha256sum -c SHA256SUMS.txt", "Get-FileHash -Algorithm SHA256",
        "usb_inserted", "Pourquoi signaler ?",
    ]
    missing = [item for item in expected if fr(item).replace(NBSP, " ") not in text]
    assert missing == []
    assert "Étape 1 faite" not in text  # « Suivant » is not « fait »
    events = timeline_text(raw)
    assert "{" not in events and "}" not in events, events
    assert re.findall(EVENT_NAME, events) == []
    pages = pdf_pages(path)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        flat = " ".join(page.replace(NBSP, " ").split())
        assert f"page {number} sur {len(pages)}" in flat, (number, flat[-200:])
        assert flat.startswith("Cabinet médical des Tilleuls — Dr Claire Martin — RPPS 10101234567"), flat[:200]
        body = [line.strip() for line in page.splitlines() if line.strip()][:-1]  # the footer left out
        assert body[-1] not in [fr(h) for h in HEADINGS], f"page {number} ends with the heading {body[-1]!r}"
    closing = " ".join(pages[-1].split())
    assert "Comment vérifier que rien n’a changé" in closing and "notes.txt" in closing
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True,
                            timeout=60).stdout.splitlines()[2:]
    assert [line.split()[3:5] for line in images] == [["1024", "768"]]  # the screenshot itself, embedded
    for old in Path("/tmp").glob("incident-report-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(path), "/tmp/incident-report-page"], check=True, timeout=120)
    assert not any(secret in text for secret in SECRETS)
    assert not any(secret.encode() in path.read_bytes() for secret in SECRETS)
    timeline = [a for a in store.load(incident_id).actions if a.kind == "report"]
    assert [a.detail["file"] for a in timeline] == [path.name]
    assert evidence.verify(store.evidence_dir(incident_id)) == ()


def test_a_heading_never_ends_a_page(tmp_path):
    """Filled to just above the bottom margin, a heading goes to the next page with what follows it."""
    doc = report.ReportPdf(FR, report.find_font())
    doc.frame("en-tête", "page {page} sur {nb}")
    while not doc.pdf.will_page_break(14):
        doc.line("ligne")
    doc.heading(dl.T("Timeline"))
    assert doc.pdf.page_no() == 2 and doc.pdf.get_y() < 40


def test_a_timeline_row_is_never_cut_by_a_page_break(tmp_path):
    """Whatever the hour (it moves the rows), a row of three lines starting two lines above the bottom margin
    goes whole to the next page: found when a report printed « … sur cet » then the page footer."""
    doc = report.ReportPdf(FR, report.find_font())
    doc.frame("en-tête", "page {page} sur {nb}")
    row = "Vigie n’a pas pu couper le réseau : Vigie n’a aucun moyen de couper le réseau sur cet ordinateur. " * 2
    while not doc.pdf.will_page_break(10):
        doc.line("ligne")
    doc.entry("21:04", row)
    path = tmp_path / "rows.pdf"
    path.write_bytes(doc.output())
    pages = [" ".join(page.split()) for page in pdf_pages(path)]
    assert len(pages) == 2 and "21:04" not in pages[0]
    assert " ".join(row.split()) in pages[1]


def test_the_report_says_verified_only_with_a_reading_of_the_network(store, journal):
    """Step 1: « read » and still connected → not verified; declared when the state could not be read; verified,
    with the time, once Vigie read it as cut; and a connection back up afterwards is said too."""
    now = datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)
    incident, _ = store.start(now, CONTACTS, journal)
    status = lambda: render(report.network_status(store.load(incident.id)), FR)  # noqa: E731
    assert status() == fr("À l’écran, pas encore terminée. Non vérifié~: Vigie n’a jamais constaté que le réseau "
                          "était coupé.")
    with store.change(incident.id) as changed:
        changed.mark_step("cut_network", now + timedelta(minutes=1), READ)
        changed.actions.append(Action("network_check", now + timedelta(minutes=2),
                                      {"cut": False, "interfaces": "eth0", "kinds": "eth0=wired"}))
    local = lambda minutes: (now + timedelta(minutes=minutes)).astimezone().strftime("%H:%M")  # noqa: E731
    assert status() == fr(f"Lue à {local(1)} le 20/11/2026. Non vérifié~: le réseau était encore connecté (câble "
                          f"(eth0)) lors de la dernière vérification de Vigie, à {local(2)}.")
    with store.change(incident.id) as changed:
        changed.steps_done.clear()
        changed.mark_step("cut_network", now + timedelta(minutes=3), DECLARED)
        changed.actions.append(Action("network_check", now + timedelta(minutes=3), {"cut": None, "error": "?"}))
    assert status() == fr(f"Faite selon l’utilisateur, à {local(3)}~; non vérifié~: Vigie n’a pas pu lire l’état du "
                          "réseau.")
    with store.change(incident.id) as changed:
        changed.actions.append(Action("network_check", now + timedelta(minutes=4), {"cut": True, "interfaces": ""}))
        changed.mark_step("cut_network", now + timedelta(minutes=4), VERIFIED)
    assert status() == fr(f"Faite et vérifiée~: Vigie a constaté que le réseau était coupé, à {local(4)} le "
                          "20/11/2026.")
    with store.change(incident.id) as changed:
        changed.actions.append(Action("network_check", now + timedelta(minutes=9),
                                      {"cut": False, "interfaces": "wlan0", "kinds": "wlan0=wifi"}))
    assert status().endswith(fr(f"Mais à {local(9)}, il était de nouveau connecté (Wi-Fi (wlan0)).")), status()


def test_export_writes_one_checked_zip_on_a_usb_drive(home_env, make_stick):
    """Issue 19, point 7: `vigie incident export` onto a real ext4 file system on a loop device, mounted as a
    USB drive: one zip with the manifest, read back and checked; a changed byte in a zip is caught."""
    import zipfile

    env = dict(home_env, TZ="Europe/Paris")
    data = Path(env["XDG_DATA_HOME"]) / "Vigie"
    store = IncidentStore(data / "incidents")
    with contextlib.closing(Journal(data / "journal.sqlite3")) as journal:
        incident_id = filled_incident(store, journal, datetime.now().astimezone())
    stick = make_stick("CLE PRESTA")
    stick.mount()
    result = harness.run_vigie(env, "incident", "export", str(stick.mount_point))
    assert result.returncode == 0, result.stderr
    (written,) = stick.mount_point.glob(f"Vigie-incident-{incident_id}-*.zip")
    assert result.stdout.splitlines() == [
        fr(f"Preuves écrites et vérifiées~: 3~fichiers, avec leurs empreintes, dans {written}"),
        fr(f"Empreinte SHA-256 du fichier zip~: {evidence.sha256_file(written)}")]
    assert mode(written) == 0o600 and not list(stick.mount_point.glob(".*.part"))
    with zipfile.ZipFile(written) as archive:
        names = set(archive.namelist())
        manifest = archive.read(evidence.MANIFEST).decode()
    assert evidence.MANIFEST in names and "notes.txt" in names and any(n.startswith("screenshots/") for n in names)
    assert {line.split("  ", 1)[1] for line in manifest.splitlines()} == names - {evidence.MANIFEST}
    unpacked = stick.mount_point / "unpacked"
    with zipfile.ZipFile(written) as archive:
        archive.extractall(unpacked)
    check = subprocess.run(["sha256sum", "--check", "--strict", evidence.MANIFEST], cwd=unpacked,
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    export = [a for a in store.find_open().actions if a.kind == "evidence_export"]
    assert [(a.detail["verified"], a.detail["path"]) for a in export] == [(True, str(written))]

    tampered = stick.mount_point / "tampered.zip"
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(tampered, "w") as copy:
        for item in source.infolist():
            copy.writestr(item, b"changed" if item.filename == "notes.txt" else source.read(item))
    assert evidence.verify_zip(tampered, evidence.read_manifest(unpacked)) == ("notes.txt",)
    missing = harness.run_vigie(env, "incident", "export", str(stick.mount_point / "nowhere"))
    assert missing.returncode == 2 and missing.stderr.startswith("Ce dossier n’existe pas"), missing.stderr


def test_report_without_a_unicode_font_still_opens(tmp_path, store, journal):
    now = datetime.now().astimezone()
    incident_id = filled_incident(store, journal, now)
    data = report.build(store.load(incident_id), store.evidence_dir(incident_id), now, FR, font=None)
    path = tmp_path / "core-font.pdf"
    path.write_bytes(data)
    text = pdf_text(path)
    assert "Chronologie" in text and "Rapport d'incident" in text  # ’ became ' in Latin-1
    assert report.latin1("prix : 50 € — « ok » œuf") == "prix : 50 EUR - « ok » oeuf"


def test_font_is_found_per_system():
    present = {Path("/System/Library/Fonts/Helvetica.ttc")}
    windows = report.find_font("win32", lambda p: p.name in {"arial.ttf", "arialbd.ttf"})
    assert windows is not None and windows.regular.name == "arial.ttf" and windows.bold.name == "arialbd.ttf"
    mac = report.find_font("darwin", present.__contains__)
    assert mac is not None and mac.regular.name == "Helvetica.ttc" and mac.bold is None
    linux = report.find_font("linux")
    assert linux is not None and linux.regular.name == "DejaVuSans.ttf" and linux.bold.name == "DejaVuSans-Bold.ttf"
    assert report.find_font("linux", lambda _p: False) is None


# --- the commands ---

def test_status_close_and_journal_through_the_cli(home_env):
    env = dict(home_env, TZ="Europe/Paris")
    result = harness.run_vigie(env, "incident", "status")
    assert (result.returncode, result.stdout) == (0, "Aucun incident n’est en cours.\n")
    data = Path(env["XDG_DATA_HOME"]) / "Vigie"
    store = IncidentStore(data / "incidents")
    detected = datetime.now().astimezone() - timedelta(hours=30, minutes=1)
    with contextlib.closing(Journal(data / "journal.sqlite3")) as journal:
        incident, _ = store.start(detected, CONTACTS, journal)
    with store.change(incident.id) as changed:
        changed.step = "evidence"
    status = harness.run_vigie(env, "incident", "status").stdout.splitlines()
    assert status[0] == fr(f"Incident en cours~: {incident.id}")
    assert status[2] == fr("Étape en cours~: 4 sur 7 — Gardez des preuves")
    assert status[3].startswith(fr("Plainte (Code des assurances, L12-10-1)~: il reste 41~h 5"))
    assert status[4].startswith(fr("Notification à la CNIL (RGPD, article 33)~: il reste 41~h 5"))
    closed = harness.run_vigie(env, "incident", "close")
    assert closed.returncode == 0, closed.stderr
    assert (store.archive_dir() / incident.id / "incident.json").is_file()
    assert harness.run_vigie(env, "incident", "close").returncode == 2
    assert harness.run_vigie(env, "incident", "report").stderr == "Aucun incident n’est en cours.\n"
    with sqlite3.connect(data / "journal.sqlite3") as db:
        kinds = [row[0] for row in db.execute("SELECT kind FROM events ORDER BY id")]
    assert kinds == ["incident_opened", "incident_closed"]


def test_vigie_incident_without_a_display_still_records_the_incident(home_env):
    env = dict(home_env, TZ="Europe/Paris")
    result = harness.run_vigie(env, "incident")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "Incident ouvert."
    assert result.stderr.startswith(fr("Vigie~: le guide d’incident ne peut pas s’ouvrir (aucun écran disponible)."))
    store = IncidentStore(Path(env["XDG_DATA_HOME"]) / "Vigie" / "incidents")
    incident = store.find_open()
    assert incident is not None and incident.step == STEPS[0]
    again = harness.run_vigie(env, "incident")
    assert again.stdout.splitlines()[:2] == ["Incident en cours repris.", fr(f"Incident en cours~: {incident.id}")]


def test_cli_and_incident_modules_stay_light():
    code = ("import sys, vigie.features.incident; from vigie.features.incident.deadlines import open_incident_summary; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tkinter', 'PIL', 'fpdf', 'pystray')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30).stdout
    assert out.strip() == "[]"  # the tray imports this for its tooltip


# --- French ransom notes (issue 15, point 13) ---

FRENCH_NOTES = [
    "LISEZ-MOI_RANCON.txt", "Lisez-moi - rançon.txt", "RANÇON.txt", "COMMENT_RECUPERER_VOS_FICHIERS.txt",
    "Comment récupérer vos fichiers.html", "DÉCHIFFRER-VOS-FICHIERS.TXT", "comment_decrypter_vos_donnees.txt",
    "Comment déchiffrer.htm", "!!!LISEZ-MOI!!!.txt", "_lisezmoi.txt", "LISEZ_MOI_D’ABORD.txt",
    "lisez-moi-maintenant.txt", "VOS FICHIERS SONT CHIFFRÉS.txt", "tous vos fichiers ont été cryptés.html",
    "Instructions de déchiffrement.rtf", "restaurer+vos+données.txt",
]
ORDINARY_FRENCH = [
    "Lisez-moi.txt", "LISEZMOI.TXT", "lisez-moi (1).txt", "Lisez moi.html", "guide-rançongiciel-ANSSI.txt",
    "compte-rendu réunion.txt", "Comment installer le logiciel.txt", "rançon.pdf", "fichiers patients.txt",
    "Récupération des fichiers - devis.txt", "déchiffrer.exe",
]


@pytest.mark.parametrize("name", FRENCH_NOTES)
def test_french_ransom_note_names_are_flagged(name):
    assert scan.note_like(name)


@pytest.mark.parametrize("name", ORDINARY_FRENCH)
def test_ordinary_french_file_names_are_not_notes(name):
    assert not scan.note_like(name)


def test_scan_flags_french_ransom_notes_on_real_files_but_not_a_software_lisez_moi(tmp_path):
    """Real files in a temp folder: the French notes are flagged, a software's lone « Lisez-moi.txt »
    is not; the same plain « LISEZ-MOI.txt » dropped in three folders at once is (like README.txt)."""
    now = datetime.now().astimezone()
    home = tmp_path / "home"
    notes = [home / "Documents" / name for name in FRENCH_NOTES]
    ordinary = [home / "Documents" / name for name in ORDINARY_FRENCH]
    software = home / "Téléchargements" / "Logiciel-Cabinet" / "Lisez-moi.txt"
    dropped = [home / folder / "LISEZ-MOI.txt" for folder in ("Bureau", "Images", "Musique")]
    for path in [*notes, *ordinary, software, *dropped]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("contenu\n", encoding="utf-8")
    flagged = lambda roots: {Path(f.path) for f in scan.scan_recent_files(roots, now).files  # noqa: E731
                             if f.reason == "ransom_note"}
    assert flagged([home / "Documents", home / "Téléchargements"]) == set(notes)
    plain = {home / "Documents" / name for name in ("Lisez-moi.txt", "LISEZMOI.TXT", "Lisez moi.html")}
    assert flagged([home]) == {*notes, *dropped, software, *plain}  # plain read-mes in five folders at once


# --- file names that are not valid UTF-8 (issue 15, point 10) ---

def test_a_file_name_that_is_not_utf8_is_kept_and_shown_readably(home_env):
    """`facture\\xff\\xfe.pdf.locked` as bytes, as a ransomware run leaves them: `vigie incident` then
    `vigie incident report` through the real CLI write the PDF, whose text (pdftotext) shows the name
    readably; the evidence JSON loads back to the very same bytes, and a second report lists a file
    found since (the list is not left stale)."""
    env = dict(home_env, TZ="Europe/Paris")
    documents = os.fsencode(env["HOME"]) + b"/Documents"
    os.makedirs(documents)
    first_name = documents + b"/facture\xff\xfe.pdf.locked"
    with open(first_name, "wb") as handle:
        handle.write(b"SECRET-PATIENT-DUPONT-1958")
    data = Path(env["XDG_DATA_HOME"]) / "Vigie"
    data.mkdir(parents=True)
    with contextlib.closing(Journal(data / "journal.sqlite3")) as journal:  # a name Vigie journalled earlier
        journal.record("backup_skipped", datetime.now().astimezone() - timedelta(hours=1),
                       file=os.fsdecode(documents + b"/ordonnance-\xe9t\xe9.odt"))

    opened = harness.run_vigie(env, "incident")  # no display: the incident is recorded, the guide cannot open
    assert opened.returncode == 1 and "Traceback" not in opened.stderr, opened.stderr
    result = harness.run_vigie(env, "incident", "report")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    pdf = Path(reported_pdf(result.stdout))
    text = pdf_text(pdf)
    assert "facture\\xff\\xfe.pdf.locked" in text and "ordonnance-\\xe9t\\xe9.odt" in text
    assert "SECRET-PATIENT" not in text
    evidence_dir = pdf.parent
    listed = json.loads((evidence_dir / evidence.SUSPICIOUS_FILE).read_text(encoding="utf-8"))
    assert [os.fsencode(item["path"]) for item in listed["files"]] == [first_name]
    extract = json.loads((evidence_dir / evidence.JOURNAL_FILE).read_text(encoding="utf-8"))
    assert os.fsencode(extract[0]["data"]["file"]) == documents + b"/ordonnance-\xe9t\xe9.odt"

    second_name = documents + b"/agenda\xe9.odt.lockbit"
    with open(second_name, "wb") as handle:
        handle.write(b"x")
    again = harness.run_vigie(env, "incident", "report")
    assert again.returncode == 0, again.stderr
    listed = json.loads((evidence_dir / evidence.SUSPICIOUS_FILE).read_text(encoding="utf-8"))
    assert {os.fsencode(item["path"]) for item in listed["files"]} == {first_name, second_name}
    assert "agenda\\xe9.odt.lockbit" in pdf_text(Path(reported_pdf(again.stdout)))
    assert evidence.verify(evidence_dir) == ()


def test_the_cli_spells_out_a_non_utf8_evidence_path(home_env):
    """A data folder whose name is Latin-1 bytes (an old home folder): `vigie incident` and `vigie incident
    report` print its path with the byte spelt out (\\xe9), never the raw byte a terminal shows as �."""
    env = dict(home_env, TZ="Europe/Paris", XDG_DATA_HOME=os.fsdecode(os.fsencode(home_env["HOME"]) + b"/donn\xe9es"))
    run = lambda *args: subprocess.run([*harness.vigie_argv(), *args], env=env, capture_output=True,  # noqa: E731
                                       timeout=60)
    opened = run("incident")
    assert opened.returncode == 1, opened.stderr
    assert b"/donn\\xe9es/Vigie/incidents/" in opened.stdout and b"\xe9es" not in opened.stdout
    report_made = run("incident", "report")
    assert report_made.returncode == 0, report_made.stderr
    printed = reported_pdf(report_made.stdout.decode("utf-8"))
    assert printed.startswith(home_env["HOME"] + "/donn\\xe9es/Vigie/incidents/") and printed.endswith(".pdf")
    assert Path(printed.replace("\\xe9", "\udce9")).is_file()  # the very file, named with its real bytes


def test_the_manifest_keeps_a_non_utf8_name_as_its_bytes(store, journal):
    """A file named with Latin-1 bytes put in the evidence folder: the manifest lists its raw bytes, so the
    standard `sha256sum --check` finds it, and Vigie's own check agrees."""
    incident, _ = store.start(DETECTED, None, journal)
    folder = store.evidence_dir(incident.id)
    with open(os.fsencode(folder) + b"/photo-\xe9cran.png", "wb") as handle:
        handle.write(b"\x89PNG fake")
    evidence.sync(store, incident)
    assert b"  photo-\xe9cran.png\n" in (folder / evidence.MANIFEST).read_bytes()
    check = subprocess.run(["sha256sum", "--check", "--strict", evidence.MANIFEST], cwd=folder, capture_output=True,
                           timeout=30)
    assert check.returncode == 0 and b"photo-\xe9cran.png: OK" in check.stdout, check.stdout + check.stderr
    assert evidence.verify(folder) == ()


# --- a full disk (issue 15, point 11) ---

@pytest.fixture(params=["tmpfs", "ext4"])
def small_disk(request, tmp_path):
    """tmpfs: a new folder still fits once the disk is full; ext4: not even that (the detection time then
    goes into Vigie's data folder, which already exists)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a file system needs root (CI runs as root)")
    disk = SmallDisk(tmp_path / "small disk", request.param, size_kib=2048)
    try:
        yield disk
    finally:
        disk.remove()


def kept_detections(data: Path) -> list[datetime]:
    """Where the incident could not be saved, its detection time: in incidents/, or beside it."""
    return [datetime.strptime(p.name, "detected-%Y%m%dT%H%M%S.%f%z")
            for folder in (data / "incidents", data) for p in folder.glob("detected-*")]


def test_vigie_incident_on_a_full_disk_keeps_the_detection_time(home_env, small_disk):
    """Vigie's data folder on a real 512 KiB tmpfs, filled up: `vigie incident` says in French that the disk
    is full and what to do (exit 2, no traceback), leaves no empty incident folder behind, and keeps the
    detection time; `status` says the same while the disk is full; once a file is deleted, the next
    command saves the incident with the original detection time, to the microsecond."""
    env = dict(home_env, TZ="Europe/Paris", XDG_DATA_HOME=str(small_disk.path))
    data = small_disk.path / "Vigie"
    with contextlib.closing(Journal(data / "journal.sqlite3")) as journal:  # Vigie ran here before
        journal.record("usb_inserted", datetime.now().astimezone(), label="CLE", uuid="1", size_bytes=1, fs_type="vfat")
    small_disk.fill()

    before = datetime.now().astimezone()
    result = harness.run_vigie(env, "incident")
    after = datetime.now().astimezone()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    [detected] = kept_detections(data)
    assert before <= detected <= after
    when = detected.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    assert result.stderr.splitlines() == [
        "Le disque est plein.",
        fr(f"Vigie n’a pas pu enregistrer l’incident, mais il garde son heure de détection, le {when}, et "
           "l’enregistrera dès qu’il y aura de la place. Notez aussi cette heure sur papier."),
        "Libérez de la place (videz la corbeille, supprimez de gros téléchargements) ou appelez votre prestataire "
        "informatique, puis rouvrez le guide.",
    ]
    made = [p.name for p in (data / "incidents").glob("*") if not p.name.startswith(("detected-", "."))]
    assert made == []  # no empty incident folder that would read as "no incident"
    guide = harness.run_vigie(env, "ui", "incident")  # the guide's own process, as the agent starts it
    assert guide.returncode == 2 and guide.stderr.splitlines() == result.stderr.splitlines(), guide.stderr
    assert kept_detections(data) == [detected]  # the same detection, not a second one
    still_full = harness.run_vigie(env, "incident", "status")
    assert still_full.returncode == 2 and still_full.stderr.startswith("Le disque est plein.\n"), still_full.stderr
    assert "Aucun incident" not in still_full.stdout + still_full.stderr

    small_disk.free()
    freed_at = datetime.now().astimezone()
    status = harness.run_vigie(env, "incident", "status")
    assert status.returncode == 0, status.stderr
    incident = IncidentStore(data / "incidents").find_open()
    assert incident is not None and incident.detected_at == detected < freed_at
    assert status.stdout.splitlines()[:2] == [fr(f"Incident en cours~: {incident.id}"), f"Détecté le {when}"]
    assert kept_detections(data) == []
    with contextlib.closing(Journal(data / "journal.sqlite3")) as journal:
        opened = [(at, d) for at, kind, d in journal.events() if kind == "incident_opened"]
    assert opened == [(detected.isoformat(timespec="seconds"), {"id": incident.id})]
    assert harness.run_vigie(env, "incident", "report").returncode == 0  # the evidence is written now


def test_report_and_close_on_a_full_disk_say_so_and_lose_nothing(home_env, small_disk):
    """The incident saved earlier, then the disk fills up: `report` and `close` say in French that the disk
    is full (exit 2, no traceback); the incident stays open as it was; once there is room both work."""
    env = dict(home_env, TZ="Europe/Paris", XDG_DATA_HOME=str(small_disk.path))
    store = IncidentStore(small_disk.path / "Vigie" / "incidents")
    with contextlib.closing(Journal(small_disk.path / "Vigie" / "journal.sqlite3")) as journal:
        incident, _ = store.start(datetime.now().astimezone(), CONTACTS, journal)
    state = (store.folder(incident.id) / "incident.json").read_bytes()
    small_disk.fill()
    full = fr("Le disque est plein~: Vigie ne peut plus rien y écrire. Libérez de la place (videz la corbeille, "
              "supprimez de gros téléchargements) ou appelez votre prestataire informatique, puis réessayez.\n")
    for action in ("report", "close"):
        result = harness.run_vigie(env, "incident", action)
        assert (result.returncode, result.stderr) == (2, full), result.stderr
        assert (store.folder(incident.id) / "incident.json").read_bytes() == state
    assert not [p for p in store.folder(incident.id).rglob("*") if p.name.endswith(".tmp")]  # no half file left
    small_disk.free()
    assert harness.run_vigie(env, "incident", "report").returncode == 0
    assert harness.run_vigie(env, "incident", "close").returncode == 0
    assert (store.archive_dir() / incident.id / "incident.json").is_file()
