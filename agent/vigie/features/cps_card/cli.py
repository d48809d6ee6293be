"""`vigie cps enroll`: record the CPS card now in the reader (its ATR and the reader's name).
Presence and ATR only: nothing is ever sent to the card. Run by vigie.cli; never by the agent."""

from __future__ import annotations

import argparse
import sys

import msgspec

from vigie.cli_parser import seconds
from vigie.config import ConfigError, ConfigStore, LoadedConfig
from vigie.features.base import NEXT_START
from vigie.i18n import render
from vigie.model import T
from vigie.platform.base import PlatformError


def add_parser(sub: argparse._SubParsersAction) -> None:
    cps = sub.add_parser("cps", help=T("CPS card: enroll the practitioner's card"))
    actions = cps.add_subparsers(dest="action", metavar="ACTION", required=True)
    enroll = actions.add_parser("enroll", help=T("enroll the CPS card now in the reader"))
    enroll.add_argument("--wait", type=seconds(120, enroll.tr), default=0.0, metavar=T("SECONDS"),
                        help=T("wait for the card to be inserted (up to 120 s)"))


def run_command(args: argparse.Namespace, loaded: LoadedConfig, tr) -> int:
    from vigie.features.cps_card.cards import enroll

    try:
        reader, atr = enroll(wait_seconds=max(0.0, min(args.wait, 120.0)))
    except PlatformError as exc:
        print(render(exc.reason, tr), file=sys.stderr)
        return 2
    settings = msgspec.structs.replace(loaded.config.cps_card, enrolled_atr=atr, enrolled_reader=reader)
    try:
        ConfigStore().replace_section(loaded, "cps_card", settings)
    except ConfigError as exc:
        print(render(exc.reason, tr), file=sys.stderr)
        return 2
    print(render(T("CPS card enrolled (reader: {reader}).", reader=reader), tr))
    print(render(NEXT_START, tr))
    return 0
