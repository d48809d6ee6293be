"""The CPS card in the running agent: a real pcscd with vpcd virtual readers, a virtual CPS card
(tests/support/pcsc.py), the real tray menu and the real locker (its keyboard grab). Which session
is in use comes from a logind stand-in on a private system bus (no logind runs here)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import harness
from support import pcsc
from support.logind_service import LogindStandIn
from support.pcsc import CPS_ATR, VITALE_ATR


def card_line(env) -> str:
    labels = harness.sni_menu(env, "labels").stdout.splitlines()
    return labels[0] if labels else ""


def test_pulling_the_card_out_locks_the_screen(desktop_env, start_agent, pcscd, tmp_path):
    card = pcscd.insert(CPS_ATR)
    harness.wait_for(lambda: pcsc.card_in(pcsc.READERS[0], CPS_ATR), what="pcscd to see the card")
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: card_line(env) == "Carte CPS\u00a0: dans le lecteur", what="the card line in the menu")
    harness.screenshot(env, Path("/tmp/cps-menu-state.png"))
    assert not harness.screen_grabbed(env)
    pulled = pcscd.pull(card)
    harness.wait_for(lambda: harness.screen_grabbed(env), timeout=5, what="the locker's keyboard grab")
    assert time.monotonic() - pulled < 3
    assert "cps: lock_now" in harness.vigie_log(env)
    snapshot = json.loads((Path(env["XDG_RUNTIME_DIR"]) / "Vigie" / "status.json").read_text())
    card_check = next(c for c in snapshot["checks"] if c["id"] == "cps_card")
    harness.wait_for(lambda: card_line(env) == "Carte CPS\u00a0: retirée", what="the menu to follow")
    assert card_check["detail"].startswith("Retirer la carte verrouille le poste aussitôt.")


def test_a_carte_vitale_pulled_out_does_not_lock(desktop_env, start_agent, pcscd):
    card = pcscd.insert(VITALE_ATR)
    harness.wait_for(lambda: pcsc.card_in(pcsc.READERS[0], VITALE_ATR), what="pcscd to see the card")
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: card_line(env) == "Carte CPS\u00a0: retirée", what="the card line (no CPS card)")
    pcscd.pull(card)
    # The watch handles the readers' changes in order: once a CPS card inserted after the pull is
    # seen, the Vitale's pull has been seen too, and a lock would already have been asked for.
    cps = pcscd.insert(CPS_ATR)
    harness.wait_for(lambda: card_line(env) == "Carte CPS\u00a0: dans le lecteur", what="the CPS card seen after")
    assert not harness.screen_grabbed(env) and "cps: lock_now" not in harness.vigie_log(env)
    pcscd.pull(cps)
    harness.wait_for(lambda: "cps: lock_now" in harness.vigie_log(env), what="the CPS card's lock")  # it was watched


def test_no_reader_means_nothing_in_the_menu(desktop_env, start_agent):
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: "check=cps_card severity=OK" in harness.vigie_log(env), what="the card check")
    assert card_line(env) == "Verrouiller maintenant"


def test_enroll_records_the_card_and_a_vitale_is_refused(keyring_env, pcscd):
    vitale = pcscd.insert(VITALE_ATR)
    harness.wait_for(lambda: pcsc.card_in(pcsc.READERS[0], VITALE_ATR), what="pcscd to see the card")
    refused = harness.run_vigie(keyring_env, "cps", "enroll")
    assert refused.returncode == 2
    assert "C’est une carte Vitale\u00a0: insérez plutôt votre carte CPS." in refused.stderr
    pcscd.pull(vitale)
    pcscd.insert(CPS_ATR, reader=1)
    harness.wait_for(lambda: pcsc.card_in(pcsc.READERS[1], CPS_ATR), what="pcscd to see the card")
    enrolled = harness.run_vigie(keyring_env, "cps", "enroll")
    assert enrolled.returncode == 0, enrolled.stderr
    stored = json.loads(harness.secret_lookup(keyring_env, "cps_card"))["data"]
    assert stored["enrolled_atr"] == CPS_ATR.replace(" ", "") and stored["enrolled_reader"] == pcsc.READERS[1]


def test_after_unlocking_the_next_removal_locks_again(desktop_env, start_agent, pcscd):
    card = pcscd.insert(CPS_ATR)
    harness.wait_for(lambda: pcsc.card_in(pcsc.READERS[0], CPS_ATR), what="pcscd to see the card")
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: card_line(env) == "Carte CPS\u00a0: dans le lecteur", what="the card line")
    for cycle in range(2):
        pcscd.pull(card)
        harness.wait_for(lambda: harness.screen_grabbed(env), timeout=5, what=f"lock {cycle + 1}")
        for locker in harness.lockers_on(env):  # the user types the password
            locker.terminate()
        harness.wait_for(lambda: not harness.screen_grabbed(env), what="the unlock")
        card = pcscd.insert(CPS_ATR)
        harness.wait_for(lambda: card_line(env) == "Carte CPS\u00a0: dans le lecteur", what="the card back")
    assert harness.vigie_log(env).count("cps: lock_now") == 2


def test_pcscd_restarted_under_the_agent_is_followed(desktop_env, start_agent, pcscd):
    pcscd.insert(CPS_ATR)
    harness.wait_for(lambda: pcsc.card_in(pcsc.READERS[0], CPS_ATR), what="pcscd to see the card")
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: card_line(env) == "Carte CPS\u00a0: dans le lecteur", what="the card line")
    pcscd.kill()  # the service dies (the virtual card with it)
    harness.wait_for(lambda: "cps: Le service des cartes à puce s’est arrêté" in harness.vigie_log(env),
                     what="one French log line")
    for locker in harness.lockers_on(env):  # the card went with the service: Vigie may have locked
        locker.terminate()
    pcscd.start()
    pcscd.insert(CPS_ATR)
    harness.wait_for(lambda: card_line(env) == "Carte CPS\u00a0: dans le lecteur", timeout=40, what="the watch back")
    assert harness.vigie_log(env).count("s’est arrêté") == 1
    assert "Traceback" not in harness.vigie_log(env)


def test_a_card_pulled_out_while_another_session_is_in_use_does_not_lock_this_one(desktop_env, start_agent, pcscd,
                                                                                  services):
    """pcscd is one per machine: this session's Vigie sees the card of whoever sits at the console.
    logind is a stand-in here (tests/support/logind_service.py): no real logind runs on this machine."""
    logind = LogindStandIn(services, desktop_env, "c2", active=False)  # another user's session is in use
    card = pcscd.insert(CPS_ATR)
    harness.wait_for(lambda: pcsc.card_in(pcsc.READERS[0], CPS_ATR), what="pcscd to see the card")
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: card_line(env) == "Carte CPS\u00a0: dans le lecteur", what="the card line")
    pcscd.pull(card)
    harness.wait_for(lambda: "this session is not the one in use at the console" in harness.vigie_log(env)
                     or "cps: lock_now" in harness.vigie_log(env), what="the removal judged")
    assert "cps: lock_now" not in harness.vigie_log(env) and not harness.screen_grabbed(env)
    logind.set("Active", True)  # back to this session
    card = pcscd.insert(CPS_ATR)
    harness.wait_for(lambda: card_line(env) == "Carte CPS\u00a0: dans le lecteur", what="the card back")
    pcscd.pull(card)
    harness.wait_for(lambda: harness.screen_grabbed(env), timeout=5, what="the lock of the session in use")
    assert harness.vigie_log(env).count("cps: lock_now") == 1
