"""The setup assistant (issue 18, point 1), tried as a new user would: a real `vigie ui first-run` child on a
real Xvfb, driven with the keyboard through xdotool (real X key events), saving into a real gnome-keyring,
a backup folder on a loop drive (make_stick), a real restic repository, the real journal; and the agent
opening it at its first start only.

The window prints "page NAME" when a page shows and "shown STEP: TEXT" with the text a step's result line
shows: the tests wait on those lines (never a fixed sleep), and read the saved values back with `vigie config
export`, secret-tool and the journal. Screenshots of every page (French) are kept in /tmp/first-run-*.png.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import harness
from test_backup_tools import make_stand_in  # noqa: F401 -- the fixture: a restic that hangs (see that module)
from vigie.features.backup import repositories
from vigie.features.first_run.feature import JOURNAL_KIND
from vigie.features.first_run.window import CLASS_NAME
from vigie.journal import Journal

PASSWORD = "correct horse battery staple"
ASSISTANT_ON = "[first_run]\nenabled = true\n"
NBSP = "\u00a0"


class Assistant(harness.WindowChild):
    line_timeout = 60.0  # a restore test with restic can take a few seconds on a busy machine

    def wait_line(self, prefix: str, skip: tuple[str, ...] = ()) -> str:
        """The next line starting with prefix (other lines are passed over, and `skip` ones too)."""
        while True:
            line = self.next_line()
            assert line is not None, f"the window ended before {prefix!r}: {self.stderr.read_text()[-2000:]}"
            if line.startswith(prefix) and not any(line.startswith(s) for s in skip):
                return line

    def key(self, env: dict[str, str], *keys: str, closing: bool = False) -> None:
        """closing: the window goes on the key press, so xdotool's key release finds no window (BadWindow)."""
        subprocess.run(["xdotool", "key", "--window", str(self.wid), "--delay", "40", *keys], env=env,
                       check=not closing, capture_output=True, timeout=20)

    def type(self, env: dict[str, str], text: str, window: int | None = None) -> None:
        subprocess.run(["xdotool", "type", "--window", str(window or self.wid), "--delay", "20", text], env=env,
                       check=True, capture_output=True, timeout=60)

    def next_page(self, env: dict[str, str], name: str) -> None:
        self.key(env, "alt+s")
        assert self.wait_line("page ") == f"page {name}"


def open_assistant(services: harness.Services, env: dict[str, str], stderr: Path) -> Assistant:
    before = harness.window_ids(env, CLASS_NAME)
    with stderr.open("w") as sink:
        proc = services.start([*harness.vigie_argv(), "ui", "first-run", "--lang", "fr"], env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=sink, text=True)
    assistant = Assistant(proc, stderr)
    assert assistant.wait_line("page ") == "page welcome"
    assert assistant.wait_line("ready") == "ready"
    (assistant.wid,) = harness.wait_for(lambda: harness.window_ids(env, CLASS_NAME) - before, what="assistant mapped")
    return assistant


def shot(env: dict[str, str], assistant: Assistant, name: str) -> Path:
    """The assistant's window alone (no window manager here: it sits at the top left)."""
    whole = harness.screenshot(env, Path(f"/tmp/first-run-{name}.{os.getpid()}.png"))
    geometry = {k: int(v) for k, v in (line.split("=") for line in
                                       harness.xdo(env, "getwindowgeometry", "--shell", str(assistant.wid)).split())}
    target = Path(f"/tmp/first-run-{name}.png")
    subprocess.run(["convert", str(whole), "-crop", f"{geometry['WIDTH']}x{geometry['HEIGHT']}+{geometry['X']}+"
                    f"{geometry['Y']}", "+repage", str(target)], check=True, timeout=20)
    whole.unlink()
    return target


def exported(env: dict[str, str]) -> dict:
    result = harness.run_vigie(env, "config", "export")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def journal_events(env: dict[str, str], kind: str) -> list[dict]:
    db = Journal(Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3")
    try:
        return [data for _, _, data in db.events(kind)]
    finally:
        db.close()


def make_originals(root: Path) -> None:
    """A practice's files, written ten days ago."""
    made = (datetime.now() - timedelta(days=10)).timestamp()
    files = {f"patients/dossier-{i:02d}.pdf": os.urandom(3000 + i) for i in range(8)}
    files["compta/recettes 2026.ods"] = os.urandom(2048)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (made, made))


@pytest.fixture
def desk(keyring_env: dict[str, str], services: harness.Services) -> dict[str, str]:
    """A display, a session bus and an unlocked gnome-keyring, for the window alone."""
    keyring_env["DISPLAY"] = harness.start_xvfb(services, keyring_env)
    return keyring_env


def test_a_new_user_enrolls_everything_without_a_terminal(desk, services, tmp_path, make_stick):
    env = desk
    originals = tmp_path / "Documents"
    make_originals(originals)
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    # The practice's backup: a plain copy (new modification times) on the drive, and a restic repository.
    subprocess.run(["cp", "-r", f"{originals}/.", str(stick.mount_point)], check=True)
    repo = tmp_path / "depot restic"
    restic_env = dict(env, RESTIC_PASSWORD=PASSWORD)
    subprocess.run(["restic", "init", "-q", "-r", str(repo)], env=restic_env, check=True, capture_output=True,
                   timeout=120)
    subprocess.run(["restic", "backup", "-q", "-r", str(repo), str(originals)], env=restic_env, check=True,
                   capture_output=True, timeout=120)

    assistant = open_assistant(services, env, tmp_path / "stderr.txt")
    shot(env, assistant, "1-welcome")

    # The backup drive: picked with the folder picker, then the originals typed in.
    assistant.next_page(env, "backup_folder")
    assistant.key(env, "Tab", "space")  # the focus starts in the backup folder's field; Tab: « Choisir… »
    (dialog,) = harness.wait_for(lambda: harness.window_ids(env, "__tk_choosedir"), what="the folder picker")
    shot(env, assistant, "2-folder-picker")
    subprocess.run(["xdotool", "key", "--window", str(dialog), "ctrl+slash"], env=env, check=True, timeout=10)
    assistant.type(env, str(stick.mount_point), window=dialog)
    # Tk's picker: the first Return goes into the folder typed, the second chooses it.
    subprocess.run(["xdotool", "key", "--window", str(dialog), "--delay", "100", "Return", "Return"], env=env,
                   check=True, timeout=10)
    harness.wait_for(lambda: not harness.window_ids(env, "__tk_choosedir"), what="the folder picker closed")
    assistant.key(env, "Tab")  # from « Choisir… » to the originals' field
    assistant.type(env, str(originals))
    assistant.key(env, "Return")
    saved = assistant.wait_line("shown backup_folder: ", skip=("shown backup_folder: Patientez",))
    assert saved == f"shown backup_folder: Dossier de sauvegarde enregistré{NBSP}: {stick.mount_point}"
    shot(env, assistant, "3-backup-folder")

    # The restic repository and its password.
    assistant.next_page(env, "backup_repo")
    assistant.type(env, str(repo))
    assistant.key(env, "Tab", "Tab", "Tab")  # « Choisir… », the name (« cabinet »), the password
    assistant.type(env, PASSWORD)
    assistant.key(env, "Return")
    added = assistant.wait_line("shown backup_repo: ", skip=("shown backup_repo: Patientez",))
    assert added.startswith(f"shown backup_repo: Dépôt ajouté{NBSP}: cabinet Sa sauvegarde la plus récente{NBSP}: ")
    shot(env, assistant, "4-backup-repo")

    # The restore test, from the window: both backups restored and compared with the originals.
    assistant.next_page(env, "restore")
    assistant.key(env, "space")
    assert assistant.wait_line("shown restore: ") == "shown restore: Patientez…"
    result = assistant.wait_line("shown restore: ")
    shot(env, assistant, "5-restore")
    assert f"Dossier de sauvegarde «{NBSP}mnt point{NBSP}»{NBSP}: réussi, 5 fichiers restaurés et identiques" in result
    assert f"Dépôt restic «{NBSP}cabinet{NBSP}»{NBSP}: réussi, 5 fichiers restaurés et identiques" in result
    proofs = journal_events(env, "restore_drill")
    assert sorted((p["outcome"], p["compared"], len(p["files"])) for p in proofs) == [("passed", True, 5)] * 2

    # The CPS card page is there (the card itself: test_the_cps_card_is_recorded_from_the_assistant).
    assistant.next_page(env, "cps")
    shot(env, assistant, "6-cps")

    # The contacts, with accents.
    assistant.next_page(env, "contacts")
    assistant.type(env, "InfoSanté 35")
    assistant.key(env, "Tab")
    assistant.type(env, "02 99 00 00 00")
    assistant.key(env, "Return")
    assert assistant.wait_line("shown contacts: ") == "shown contacts: Contacts enregistrés."
    shot(env, assistant, "7-contacts")

    # The lock delay: 10 minutes.
    assistant.next_page(env, "lock")
    assistant.key(env, "ctrl+slash", "BackSpace")
    assistant.type(env, "10")
    assistant.key(env, "Return")
    assert assistant.wait_line("shown lock: ") == ("shown lock: L’écran se verrouillera après 10 minutes sans "
                                                   "utilisation.")
    shot(env, assistant, "8-lock")

    assistant.next_page(env, "done")
    shot(env, assistant, "9-done")
    assistant.key(env, "alt+s", closing=True)  # « Terminer »
    assert assistant.proc.wait(15) == 0
    assert "Traceback" not in assistant.stderr.read_text()

    # Everything is in the keyring, as the command line would have stored it.
    config = exported(env)["config"]
    (folder,) = config["backup_age"]["destinations"]
    assert (folder["path"], folder["originals"]) == (str(stick.mount_point), str(originals))
    assert config["backup_age"]["repositories"] == [{"kind": "restic", "name": "cabinet", "repository": str(repo)}]
    assert harness.secret_lookup(env, repositories.PASSWORD_ENTRY.format(name="cabinet")) == PASSWORD
    assert (config["contacts"]["it_provider_name"], config["contacts"]["it_provider_phone"]) == (
        "InfoSanté 35", "02 99 00 00 00")
    assert (config["idle_lock"]["lock_after_seconds"], config["idle_lock"]["remind_after_seconds"]) == (600, 540)
    assert harness.run_vigie(env, "config", "get", "contacts.it_provider_name").stdout.strip() == "InfoSanté 35"
    # … and in the journal: each step saved, then the assistant finished.
    steps = journal_events(env, JOURNAL_KIND)
    assert steps == [{"event": "saved", "step": s} for s in ("backup_folder", "backup_repo", "contacts", "lock")] + [
        {"event": "finished"}]
    assert PASSWORD not in (Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3").read_bytes().decode("latin-1")


def test_the_cps_card_is_recorded_from_the_assistant(desk, services, tmp_path, pcscd):
    from support.pcsc import CPS_ATR, READERS

    assistant = open_assistant(services, desk, tmp_path / "stderr.txt")
    for page in ("backup_folder", "backup_repo", "restore", "cps"):
        assistant.next_page(desk, page)
    assistant.key(desk, "space")  # « Enregistrer ma carte », before the card is in
    assert assistant.wait_line("shown cps: ") == "shown cps: Insérez votre carte CPS…"
    pcscd.insert(CPS_ATR, reader=1)
    assert assistant.wait_line("shown cps: ") == f"shown cps: Carte CPS enregistrée (lecteur{NBSP}: {READERS[1]})."
    shot(desk, assistant, "6-cps-recorded")
    assistant.key(desk, "Escape", closing=True)
    assert assistant.proc.wait(15) == 0
    card = exported(desk)["config"]["cps_card"]
    assert (card["enrolled_atr"].replace(" ", "").upper(), card["enrolled_reader"]) == (
        CPS_ATR.replace(" ", ""), READERS[1])
    assert journal_events(desk, JOURNAL_KIND) == [{"event": "saved", "step": "cps"}, {"event": "closed"}]


def test_what_the_it_provider_set_is_shown_not_editable(desk, services, tmp_path, policy_dir):
    policy = harness.policy_file('[contacts]\nit_provider_name = "InfoSanté 35"\nit_provider_phone = "02 99 00 00 00"\n'
                                 "[idle_lock]\nlock_after_seconds = 180\n", policy_dir)
    env = dict(desk, VIGIE_POLICY=str(policy))
    assistant = open_assistant(services, env, tmp_path / "stderr.txt")
    for page in ("backup_folder", "backup_repo", "restore", "cps", "contacts"):
        assistant.next_page(env, page)
    shot(env, assistant, "7-contacts-set-by-provider")
    assistant.type(env, "Autre")  # nowhere to type: the focus is on « Suivant »
    assistant.key(env, "Return")  # … which goes on
    assert assistant.wait_line("page ") == "page lock"
    shot(env, assistant, "8-lock-set-by-provider")
    assistant.type(env, "30")
    assistant.key(env, "Escape", closing=True)
    assert assistant.proc.wait(15) == 0
    rest = []
    while (line := assistant.next_line()) is not None:
        rest.append(line)
    assert not [line for line in rest if line.startswith("shown ")], rest  # nothing was saved, nor refused
    assert harness.secret_lookup(env, "contacts") is None and harness.secret_lookup(env, "idle_lock") is None
    config = exported(env)["config"]
    assert config["contacts"]["it_provider_name"] == "InfoSanté 35" and config["idle_lock"]["lock_after_seconds"] == 180
    assert journal_events(env, JOURNAL_KIND) == [{"event": "closed"}]


def test_the_agent_opens_the_assistant_at_its_first_start_only(desktop_env, start_agent):
    env = harness.policy_env(desktop_env, ASSISTANT_ON)
    proc, env = start_agent(env)
    (wid,) = harness.wait_for(lambda: harness.window_ids(env, CLASS_NAME), timeout=20, what="the assistant at start")
    assert "first start: opening the setup assistant" in harness.vigie_log(env)
    # Its menu entry opens it again; closing it once is enough (the journal says so).
    subprocess.run(["xdotool", "key", "--window", str(wid), "Escape"], env=env, capture_output=True, timeout=10)
    harness.wait_for(lambda: not harness.window_ids(env, CLASS_NAME), what="the assistant closed")
    assert journal_events(env, JOURNAL_KIND) == [{"event": "closed"}]
    labels = harness.sni_menu(env, "labels").stdout.splitlines()
    assert "Assistant de démarrage…" in labels, labels
    assert harness.sni_menu(env, "click", "Assistant de démarrage…").returncode == 0
    (wid,) = harness.wait_for(lambda: harness.window_ids(env, CLASS_NAME), timeout=20,
                              what="the assistant from the menu")
    subprocess.run(["xdotool", "key", "--window", str(wid), "Escape"], env=env, capture_output=True, timeout=10)
    harness.wait_for(lambda: not harness.window_ids(env, CLASS_NAME), what="the assistant closed again")
    harness.stop(proc)

    proc, env = start_agent(env)  # the second start
    # The features start once the settings have arrived, after the icon (issue 21): the decision is waited for.
    log = harness.wait_for(lambda: "setup assistant already shown: it opens from the menu only" in
                           harness.vigie_log(env) and harness.vigie_log(env), timeout=30,
                           what="the second start's decision")
    assert log.count("first start: opening the setup assistant") == 1
    assert not harness.window_ids(env, CLASS_NAME)


def test_a_backup_without_its_originals_is_never_called_identical(desk, services, tmp_path, make_stick):
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    make_originals(stick.mount_point)  # a backup, but Vigie is not told where the originals are
    assistant = open_assistant(services, desk, tmp_path / "stderr.txt")
    assistant.next_page(desk, "backup_folder")
    assistant.type(desk, str(stick.mount_point))
    assistant.key(desk, "Return")
    assert assistant.wait_line("shown backup_folder: ") == (
        f"shown backup_folder: Dossier de sauvegarde enregistré{NBSP}: {stick.mount_point} Sans le dossier copié, le "
        "test de restauration peut seulement relire la sauvegarde, pas la comparer à vos fichiers.")
    shot(desk, assistant, "3-backup-folder-without-originals")
    for page in ("backup_repo", "restore"):
        assistant.next_page(desk, page)
    assistant.key(desk, "space")
    assert assistant.wait_line("shown restore: ") == "shown restore: Patientez…"
    result = assistant.wait_line("shown restore: ")
    shot(desk, assistant, "5-restore-without-originals")
    assert result == (f"shown restore: Dossier de sauvegarde «{NBSP}mnt point{NBSP}»{NBSP}: 5 fichiers relus dans la "
                      "sauvegarde, mais pas comparés à vos fichiers (résultat inconnu). Indiquez le dossier copié à la "
                      f"page «{NBSP}Votre disque de sauvegarde{NBSP}» pour les comparer.")
    assert "identique" not in result and "réussi" not in result
    (proof,) = journal_events(desk, "restore_drill")
    assert (proof["outcome"], proof["compared"], len(proof["files"])) == ("readable", False, 5)
    assistant.key(desk, "Escape", closing=True)
    assert assistant.proc.wait(15) == 0


def test_closing_the_assistant_ends_a_hung_restic(desk, services, tmp_path, make_stand_in):  # noqa: F811
    """A repository on a NAS that stopped answering: restic hangs while the assistant reads it. Closing the
    window ends restic with its whole group (a stand-in restic that ignores SIGTERM in a grandchild: a real
    one only hangs on a dead NAS, which a test cannot summon)."""
    stand_in = make_stand_in("restic")
    env = dict(desk, PATH=stand_in.path)
    assistant = open_assistant(services, env, tmp_path / "stderr.txt")
    for page in ("backup_folder", "backup_repo"):
        assistant.next_page(env, page)
    assistant.type(env, "sftp:nas.cabinet.local:/sauvegardes")
    assistant.key(env, "Tab", "Tab", "Tab")
    assistant.type(env, PASSWORD)
    assistant.key(env, "Return")
    assert assistant.wait_line("shown backup_repo: ") == "shown backup_repo: Patientez…"
    stand_in.hanging()
    assistant.key(env, "Escape", closing=True)
    assert assistant.proc.wait(15) == 0
    stand_in.assert_all_ended()
    assert "Traceback" not in assistant.stderr.read_text()


def test_without_a_keyring_nothing_is_saved_and_the_window_says_why(bus_env, services, tmp_path):
    """No Secret Service on the bus: the settings are read-only; a step says so in French, logs it, and the
    window goes on (never a crash)."""
    env = dict(bus_env, DISPLAY=harness.start_xvfb(services, bus_env))
    assistant = open_assistant(services, env, tmp_path / "stderr.txt")
    for page in ("backup_folder", "backup_repo", "restore", "cps", "contacts"):
        assistant.next_page(env, page)
    assistant.type(env, "InfoSanté 35")
    assistant.key(env, "Return")
    refused = assistant.wait_line("shown contacts: ")
    assert refused == (f"shown contacts: Les réglages sont en lecture seule pour l’instant{NBSP}: le trousseau "
                       "sécurisé du poste est inutilisable.")
    shot(env, assistant, "7-contacts-no-keyring")
    assistant.next_page(env, "lock")
    assistant.key(env, "Escape", closing=True)
    assert assistant.proc.wait(15) == 0
    assert "Traceback" not in assistant.stderr.read_text()
    assert "setup assistant: step contacts not done: Les réglages sont en lecture seule" in harness.vigie_log(env)
