"""Which card is the practitioner's CPS card: ATRs, the enrolled card, and `vigie cps enroll`'s choice.

Presence and ATR only: nothing here talks to a card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vigie.model import T
from vigie.platform.base import PlatformError
from vigie.platform.pcsc import NO_READER, Pcsc, normalise_atr, present_cards

# ATRs from pcsc-tools' smartcard_list.txt (see shared/notes/smartcard.md), as regular expressions over
# upper-case hex without spaces, matched from the start of the ATR.
CPS_ATRS = (
    r"3BAC00402A001225006480",  # contact CPS (older generation), both known variants
    r"3B8F80010031B86404B0ECC1739401808290000E",  # contactless CPS v3
)
VITALE_ATRS = (
    r"3B751300004[0-9A-F]09[EF]A9000",  # Carte Vitale 2
    r"3F652500[0-9A-F]{2}09[0-9A-F]{2}9000",  # Carte Vitale 1
)


def is_vitale(atr_hex: str) -> bool:
    return any(re.match(p, normalise_atr(atr_hex)) for p in VITALE_ATRS)


def is_known_cps(atr_hex: str) -> bool:
    return any(re.match(p, normalise_atr(atr_hex)) for p in CPS_ATRS)


@dataclass(frozen=True)
class CardMatch:
    """Which card is the practitioner's card (what `vigie cps enroll` records).

    A card counts when it is not a Carte Vitale and either its ATR is the enrolled one (in any
    reader: reader names change with the USB port), or it sits in the enrolled reader (any card
    there: current CPS3 cards have no public ATR), or its ATR is a known CPS one (the default).
    """

    atr_hex: str = ""
    reader: str = ""

    def counts(self, reader: str, atr_hex: str) -> bool:
        atr = normalise_atr(atr_hex)
        if is_vitale(atr):
            return False
        if self.atr_hex and atr == normalise_atr(self.atr_hex):
            return True
        if self.reader and reader == self.reader:
            return True
        return is_known_cps(atr)


class EnrollError(PlatformError):
    """No single card to enrol, or no service to ask; `reason` says what to do."""


def enroll(wait_seconds: float = 0.0, pcsc: Pcsc | None = None) -> tuple[str, str]:
    """(reader, ATR hex) of the card now in a reader, for `vigie cps enroll`; waits up to
    `wait_seconds` for one to be inserted. Reads presence and ATR only: nothing is sent to the card."""
    try:
        cards = present_cards(wait_seconds, pcsc=pcsc)
    except PlatformError as exc:
        raise EnrollError(exc.reason, exc.log_detail) from exc
    if cards is None:
        raise EnrollError(NO_READER)
    candidates = [(reader, atr) for reader, atr in cards if not is_vitale(atr)]
    if not candidates:
        if cards:
            raise EnrollError(T("This is a Carte Vitale: insert your CPS card instead."))
        raise EnrollError(T("No card in the reader: insert your CPS card, then try again."))
    known = [card for card in candidates if is_known_cps(card[1])]
    if len(known) == 1:
        return known[0]
    if len(candidates) > 1:
        raise EnrollError(T("Several cards are in the readers: leave only your CPS card, then try again."))
    return candidates[0]
