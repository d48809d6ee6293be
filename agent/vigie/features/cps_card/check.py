"""cps_card: is the CPS card in the reader, and what Vigie does about it (in plain words).

Reads presence and ATR only (never talks to the card). Without a reader or a smart-card service
there is nothing to watch: that is fine, not a problem. In the agent the card watch's events
trigger this check, so the status window follows the card.
"""

from __future__ import annotations

from typing import ClassVar

from vigie.check import CheckContext
from vigie.config.schema import CpsCard
from vigie.events import Event, Tick
from vigie.features.cps_card.cards import CardMatch
from vigie.features.cps_card.events import CardInserted, CardReaders, CardRemoved, CardWatchLost, CardWatchRestored
from vigie.model import Finding, Severity, T, Text
from vigie.platform.base import PlatformError

CALL_TIMEOUT = 5.0  # the smart-card service answers in milliseconds; a hung one must not hold the checks


def card_match(settings: CpsCard) -> CardMatch:
    return CardMatch(settings.enrolled_atr, settings.enrolled_reader)


def policy_text(settings: CpsCard) -> Text:
    if not settings.lock_on_removal:
        return T("Pulling the card out does not lock the computer (turned off in the settings).")
    if settings.lock_delay_seconds:
        removal = T("Pulling the card out locks the computer after {seconds} s.", seconds=settings.lock_delay_seconds)
    else:
        removal = T("Pulling the card out locks the computer at once.")
    if settings.end_of_day:
        return T("{removal} If it is still in the reader at {hour}, Vigie reminds you to take it.",
                 removal=removal, hour=settings.end_of_day)
    return removal


class CpsCardCheck:
    id: ClassVar[str] = "cps_card"
    label: ClassVar[Text] = T("CPS card")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick, CardInserted, CardRemoved, CardReaders, CardWatchLost,
                                                   CardWatchRestored)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        settings = ctx.config.cps_card
        if isinstance(event, CardWatchLost):
            return Finding(self.id, Severity.UNKNOWN, T("The CPS card is not watched for now."), event.reason,
                           T("Lock the computer yourself when you leave it."), facts={"available": False})
        try:
            cards = ctx.platform.smartcards(CALL_TIMEOUT)
        except PlatformError as exc:
            if settings.enrolled_atr:  # a card is expected: pulling it out would lock nothing
                return Finding(self.id, Severity.WARNING, T("Your CPS card is not watched."), exc.reason,
                               T("Lock the computer yourself when you leave it, and ask your IT provider to "
                                 "start the smart-card service."), facts={"available": False})
            return Finding(self.id, Severity.OK, T("No card reader is in use on this computer."), exc.reason,
                           facts={"available": False})
        if cards is None:
            return Finding(self.id, Severity.OK, T("No card reader is in use on this computer."),
                           facts={"available": False})
        match = card_match(settings)
        present = [reader for reader, atr in cards if match.counts(reader, atr)]
        facts = {"available": True, "present": bool(present)}
        if present:
            return Finding(self.id, Severity.OK, T("CPS card: in the reader"), policy_text(settings), facts=facts)
        return Finding(self.id, Severity.OK, T("CPS card: removed"), policy_text(settings), facts=facts)
