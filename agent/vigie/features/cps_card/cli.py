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


def record_card(loaded: LoadedConfig, wait_seconds: float) -> str:
    """Record the card now in the reader (waiting up to wait_seconds for one); its reader's name.
    Raises PlatformError or ConfigError with the user's reason. Shared with the setup assistant."""
    from vigie.features.cps_card.cards import enroll

    reader, atr = enroll(wait_seconds=max(0.0, min(wait_seconds, 120.0)))
    settings = msgspec.structs.replace(loaded.config.cps_card, enrolled_atr=atr, enrolled_reader=reader)
    ConfigStore().replace_section(loaded, "cps_card", settings)
    return reader


def run_command(args: argparse.Namespace, loaded: LoadedConfig, tr) -> int:
    try:
        reader = record_card(loaded, args.wait)
    except (PlatformError, ConfigError) as exc:
        print(render(exc.reason, tr), file=sys.stderr)
        return 2
    print(render(T("CPS card enrolled (reader: {reader}).", reader=reader), tr))
    print(render(NEXT_START, tr))
    return 0
