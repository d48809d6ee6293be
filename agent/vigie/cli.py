"""Command line: vigie [run] | check [--json] | config … | autostart … | policy … | ui WINDOW, and each
feature's own sub-command and windows (features/*/feature.py), declared by looping over ALL_FEATURES."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import datetime

from vigie import __version__, agent_status, report
from vigie.check import CheckContext, run_check
from vigie.cli_parser import EXIT_UNEXPECTED, UNEXPECTED, Parser, language_in, speaking
from vigie.config import SECTIONS, ConfigError, ConfigStore, LoadedConfig
from vigie.events import Tick
from vigie.features import ALL_CHECKS, ALL_FEATURES
from vigie.features.base import CliContext
from vigie.i18n import render, resolve_language, translator
from vigie.journal import open_journal
from vigie.launch import run_window, utf8_streams  # the slim entry point's own
from vigie.logs import setup_logging
from vigie.model import T
from vigie.platform import get_platform, proc

log = logging.getLogger("vigie.cli")


def build_parser(tr=None) -> argparse.ArgumentParser:
    """Every text is rendered in tr's language (French when none is given); `--lang` is on each parser."""
    tr = tr or translator(resolve_language())
    parser = Parser(prog="vigie", description=T("Vigie: the computer hygiene of the practice."), tr=tr,
                    lang_default=None)
    parser.add_argument("--version", action="version", version=f"vigie {__version__}",
                        help=T("show Vigie's version and exit"))
    sub = parser.add_subparsers(dest="command", metavar=T("COMMAND"))
    sub.add_parser("run", help=T("start the agent (the icon near the clock); also what happens with no command"))

    check = sub.add_parser("check", help=T("check the computer once and print the summary"))
    check.add_argument("--json", action="store_true", help=T("JSON output for the IT provider's tools"))

    config = sub.add_parser("config", help=T("show or change the settings (system keyring)"))
    actions = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("show", help=T("show every setting"))
    actions.add_parser("export", help=T("the settings in force and their problems, as JSON"))
    get = actions.add_parser("get", help=T("show one setting"))
    get.add_argument("key", metavar=T("SECTION.KEY"))
    set_ = actions.add_parser("set", help=T("change one setting"))
    set_.add_argument("key", metavar=T("SECTION.KEY"))
    set_.add_argument("value", metavar=T("VALUE"))
    reset = actions.add_parser("reset", help=T("go back to the default settings"))
    reset.add_argument("section", nargs="?", choices=sorted(SECTIONS))

    # Declared here, run by vigie.autostart: the always-on agent never imports that module.
    auto = sub.add_parser("autostart", help=T("start Vigie when the session opens, or not"))
    auto_actions = auto.add_subparsers(dest="action", metavar="ACTION", required=True)
    auto_actions.add_parser("enable", help=T("start Vigie each time the session opens"))
    auto_disable = auto_actions.add_parser("disable", help=T("no longer start Vigie when the session opens"))
    auto_disable.add_argument("--code", action="store_true",
                              help=T("if the IT provider protects Vigie: their code, asked next (or read from "
                                     "standard input), never on the command line"))
    auto_actions.add_parser("status", help=T("say whether Vigie starts when the session opens"))

    hashing = sub.add_parser("policy", help=T("IT provider: tools for the policy.toml file"))
    hashing.add_subparsers(dest="action", metavar="ACTION", required=True).add_parser(
        "hash-code", help=T("hash the code that protects \"Quit\" (read from standard input)"))

    for feature in ALL_FEATURES:
        if feature.command:
            feature.add_cli(sub)

    ui = sub.add_parser("ui", help=T("the agent's windows (started by the agent itself)"))
    windows = ui.add_subparsers(dest="window", metavar=T("WINDOW"), required=True)
    status = windows.add_parser("status", help=T("security status"))
    status.add_argument("--snapshot", help=argparse.SUPPRESS)
    windows.add_parser("quit-code", help=T("the IT provider's code to quit Vigie"))
    for feature in ALL_FEATURES:
        for window in feature.windows:
            window.add_arguments(windows.add_parser(window.name, help=window.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    utf8_streams()
    argv = sys.argv[1:] if argv is None else list(argv)
    tr = translator(language_in(argv))
    with speaking(tr):  # argparse's own words (« utilisation : », errors) in the same language
        args = build_parser(tr).parse_args(argv)
    setup_logging()
    try:
        return dispatch(args)
    except KeyboardInterrupt:
        print(render(T("Stopped."), tr), file=sys.stderr)
        return 130
    except Exception:  # the last net: a fault of Vigie's own, never a traceback on the user's screen
        log.exception("vigie %s stopped on an unexpected error", args.command or "run")
        print(render(UNEXPECTED, tr), file=sys.stderr)
        return EXIT_UNEXPECTED


def dispatch(args: argparse.Namespace) -> int:
    if args.command in (None, "run"):
        from vigie.app import run_agent

        return run_agent(args.lang)
    if args.command == "ui":  # usually handled by vigie.launch without this parser
        return run_window(args)
    proc.end_programs_on_termination()  # a killed `vigie check` leaves no restic behind
    feature = next((f for f in ALL_FEATURES if f.command and f.command == args.command), None)
    if feature is not None:  # each loads the settings only if it needs them
        return feature.run_cli(args, CliContext(args.lang))
    loaded = ConfigStore().load()
    tr = translator(resolve_language(args.lang, loaded.config.general.language))
    if args.command == "check":
        return cmd_check(args, loaded, tr)
    if args.command == "autostart":
        from vigie import autostart

        return autostart.run_command(args, tr)
    if args.command == "policy":
        from vigie.config import policy

        code = sys.stdin.readline().rstrip("\n")
        if not code:  # an empty code would let anyone quit Vigie
            print(render(T("No code was read from standard input: nothing was hashed."), tr), file=sys.stderr)
            return 2
        print(policy.hash_code(code))
        return 0
    return cmd_config(args, loaded, tr)


JOURNAL_PROBLEM = T("Vigie's journal cannot be opened; dates will not be kept this time.")


def cmd_check(args: argparse.Namespace, loaded: LoadedConfig, tr) -> int:
    platform = get_platform()
    journal, journal_problem = open_journal()
    now = datetime.now().astimezone()
    ctx = CheckContext(platform, loaded.config, journal, clock=lambda: datetime.now().astimezone())
    checks = [c for c in ALL_CHECKS if getattr(loaded.config, c.id).enabled]
    findings = [run_check(check, Tick(), ctx) for check in checks]
    agent = agent_status.read_status(journal, protected=bool(loaded.quit_code))  # is the tray agent running?
    checks, findings = [*checks, agent_status.AgentRow()], [*findings, agent_status.finding(agent)]
    journal.close()
    language = resolve_language(args.lang, loaded.config.general.language)
    if args.json:
        print(report.to_json(checks, findings, loaded, platform.name, language, tr, now, agent.to_json()))
    else:
        if journal_problem:
            print(render(JOURNAL_PROBLEM, tr), file=sys.stderr)
        print(report.to_table(checks, findings, loaded, tr, now))
    return report.exit_code(findings)


def cmd_config(args: argparse.Namespace, loaded: LoadedConfig, tr) -> int:
    store = ConfigStore()
    if args.action != "export":  # export carries the problems in its JSON
        for problem in loaded.problems:
            print(render(T("Settings: {problem}", problem=problem.message), tr), file=sys.stderr)
    try:
        if args.action == "show":
            _show(loaded, tr)
        elif args.action == "export":
            print(loaded.to_json())
        elif args.action == "get":
            _get(loaded, args.key)
        elif args.action == "set":
            store.set_value(loaded, args.key, args.value)
            print(render(T("Saved: {key} = {value}", key=args.key, value=args.value), tr))
        elif args.action == "reset":
            names = store.reset(loaded, args.section)
            print(render(T("Back to the default settings: {sections}", sections=", ".join(names)), tr))
    except ConfigError as exc:
        print(render(exc.reason, tr), file=sys.stderr)
        return 2
    return 0


def _show(loaded: LoadedConfig, tr) -> None:
    import msgspec

    if loaded.read_only:
        print(render(report.READ_ONLY_NOTE, tr))
    for name in SECTIONS:
        origin = T("saved") if name in loaded.stored_sections else T("default")
        print(f"[{name}]  ({render(origin, tr)})")
        for key, value in msgspec.to_builtins(getattr(loaded.config, name)).items():
            print(f"  {key} = {_format(value)}")


def _get(loaded: LoadedConfig, key: str) -> None:
    from vigie.config.store import split_key

    name, field_name = split_key(key)
    print(_format(getattr(getattr(loaded.config, name), field_name)))


def _format(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
