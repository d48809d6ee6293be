"""The tips, in Vigie's own words, in the order they are first shown."""

from __future__ import annotations

from dataclasses import dataclass

from vigie.model import T, Text


@dataclass(frozen=True)
class Tip:
    id: str  # kept in the journal: never change one
    text: Text


TIPS = (
    Tip("passwords", T("A good password has 12 characters or more and serves one site only. A password manager "
                       "remembers them all for you: you only need to know one.")),
    Tip("cps_card", T("Your CPS card is yours alone: never lend it, not even to a colleague or a locum, and never "
                      "give anyone its PIN.")),
    Tip("ecps_phone", T("Your phone asks you to approve an e-CPS sign-in you did not start? Refuse it, then call "
                        "the ANS or your CPAM (36 08).")),
    Tip("secure_mail", T("Send health data to colleagues through MSSanté, and to patients through Mon Espace Santé: "
                         "never through a free email service.")),
    Tip("work_only", T("This computer is for the practice only: no games, social networks or personal downloads. "
                       "What comes in that way can reach your patients' records.")),
    Tip("wifi", T("The practice's Wi-Fi needs WPA2 or WPA3 and a long password. Patients use a guest network, "
                  "kept apart from the one your computers use.")),
    Tip("usb_stick", T("A USB stick found at the practice or handed out as a gift can carry a virus: do not plug "
                       "it in, give it to your IT provider.")),
    Tip("backup_drive", T("Unplug the backup drive after each backup and keep it away from the computer, encrypted. "
                          "Back up online only with a host certified HDS (health data hosting).")),
    Tip("spam", T("A doubtful email? Click nothing in it, and report it on signal-spam.fr.")),
)
