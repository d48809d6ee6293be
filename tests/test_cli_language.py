"""The command line speaks the user's language: argparse's own words, every --help and every usage
error, `--lang` at every level, exit code 64 for a usage error, no traceback ever."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import harness

# One child per language walks every (sub-)command in the real parser and real argparse: each
# --help, an unknown option, and the bare command when it has a required argument.
WALKER = r"""
import argparse, contextlib, io, json, sys
from vigie.cli import build_parser, main

def paths(parser, prefix=()):
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from paths(child, (*prefix, name))

def needs_more(parser):
    return any(a.required for a in parser._actions if not a.option_strings)

def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    return {"argv": argv, "code": code, "out": out.getvalue(), "err": err.getvalue()}

lang = sys.argv[1:]
results = []
for path, parser in paths(build_parser()):
    results.append(run([*lang, *path, "--help"]))
    results.append(run([*path, "--no-such-option", *lang]))
    if needs_more(parser):
        results.append(run([*lang, *path]))
print(json.dumps(results))
"""

# argparse's own English, and words that only an English help text would hold.
ARGPARSE_ENGLISH = ["usage:", "positional arguments", "show this help", "error:", "invalid choice", "choose from",
                    "the following arguments are required", "unrecognized arguments", "expected", "==SUPPRESS==",
                    "subcommands", "show program", "Traceback"]
ENGLISH_WORDS = re.compile(r"\b(the|and|of|to|with|this|from|is|are|your|when|folder|settings)\b")
# Command names are what the user types, not prose: « vigie ui settings » stays as it is in both languages.
COMMAND_PATH = re.compile(r"vigie(?: [a-z][a-z-]*)+")
CHOICE_LINE = re.compile(r"^ {4}[a-z][a-z-]*(?= |$)", re.MULTILINE)
FRENCH_WORDS = ["utilisation", "erreur", "afficher", "il manque", "choix impossible", "arguments inconnus"]


def walk(env, *lang: str) -> list[dict]:
    result = subprocess.run([sys.executable, "-c", WALKER, *lang], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def prose(text: str, names: set[str]) -> str:
    """The text without the command names it quotes (a usage line's path, a listed sub-command)."""
    text = COMMAND_PATH.sub("vigie", text)
    return CHOICE_LINE.sub(lambda m: "" if m.group().strip() in names else m.group(), text)


def test_every_help_and_usage_error_is_in_french(home_env):
    results = walk(home_env)
    helps = [r for r in results if r["argv"][-1] == "--help"]
    assert len(helps) >= 25  # every sub-command, down to `vigie config set` and `vigie ui usb`
    names = {word for r in helps for word in r["argv"][:-1]}
    for r in results:
        text = prose(r["out"] + r["err"], names)
        leftover = [w for w in ARGPARSE_ENGLISH if w in text] + ENGLISH_WORDS.findall(text)
        assert leftover == [], (r["argv"], leftover, text)
        if r["argv"][-1] == "--help":
            assert r["code"] == 0 and r["out"].startswith("utilisation\u00a0: vigie"), r
            assert "--lang {fr,en}" in r["out"], r  # accepted at every level
        else:
            assert r["code"] == 64, r  # never 2: « urgent » to an RMM
            assert "erreur\u00a0:" in r["err"], r


def test_english_mode_speaks_english_everywhere(home_env):
    results = walk(home_env, "--lang", "en")
    assert len(results) >= 50
    for r in results:
        text = r["out"] + r["err"]
        assert [w for w in FRENCH_WORDS if w in text] == [], (r["argv"], text)
        if r["argv"][-1] == "--help":
            assert r["code"] == 0 and r["out"].startswith("usage: vigie"), r
            assert "show this help message and exit" in r["out"]
        else:
            assert r["code"] == 64 and "error: " in r["err"], r
    everything = "".join(r["out"] for r in results)
    for french in ("sauvegarde", "réglage", "carte", "DOSSIER", "COMMANDE"):
        assert french not in everything  # Vigie's own help texts are translated too


def test_a_usage_error_exits_64_in_a_real_process(home_env):
    result = harness.run_vigie(home_env, "chek")
    assert result.returncode == 64
    assert "choix impossible\u00a0: 'chek'" in result.stderr
    assert "Traceback" not in result.stderr


def test_lang_is_accepted_after_any_sub_command(home_env):
    english = harness.run_vigie(home_env, "config", "show", "--lang", "en")
    assert english.returncode == 0, english.stderr
    assert "(default)" in english.stdout and "par défaut" not in english.stdout
    french = harness.run_vigie(home_env, "--lang", "en", "config", "show", "--lang", "fr")  # the last one wins
    assert "(par défaut)" in french.stdout


def test_drill_refuses_zero_files_in_french(home_env):
    result = harness.run_vigie(home_env, "backup", "drill", "--files", "0")
    assert result.returncode == 64
    assert "«\u00a00\u00a0» n’est pas possible\u00a0: donnez un nombre entier de 1 à 50." in result.stderr
    assert harness.run_vigie(home_env, "backup", "drill", "--files", "51").returncode == 64
    assert harness.run_vigie(home_env, "cps", "enroll", "--wait", "-1").returncode == 64


def test_add_repo_without_a_terminal_says_so_in_french(home_env, tmp_path):
    # No terminal at all: a new session has no controlling tty, and stdin is empty.
    result = subprocess.run([*harness.vigie_argv(), "backup", "add-repo", "restic", str(tmp_path / "repo"),
                             "--name", "cabinet"], env=home_env, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=60, start_new_session=True)
    assert result.returncode == 2
    assert result.stderr.startswith("Aucun mot de passe donné\u00a0: rien n’a été enregistré.")
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr


def test_an_unexpected_fault_is_a_french_sentence_and_a_log_entry(home_env, tmp_path):
    # A real fault that no code path handles: `policy hash-code` reading a closed standard input.
    code = ("import sys; sys.stdin.close(); from vigie.cli import main; sys.exit(main(['policy', 'hash-code']))")
    result = subprocess.run([sys.executable, "-c", code], env=home_env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 70
    assert "Traceback" not in result.stderr
    assert "Vigie a rencontré un problème inattendu" in result.stderr
    assert "Traceback" in harness.vigie_log(home_env)  # the details are for the IT provider, in the log


def test_an_empty_quit_code_is_refused(home_env):
    result = subprocess.run([*harness.vigie_argv(), "policy", "hash-code"], input="\n", env=home_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "Aucun code lu sur l’entrée standard\u00a0: rien n’a été haché.\n"
