"""Whom to alert, as text to read out or dial from another phone (the guide works offline), and who the
practice is (the report's header). « Appelez » is said only before a phone number (issue 19, point 8)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec

from vigie.config.schema import Config
from vigie.model import T, Text


class IncidentContacts(msgspec.Struct, frozen=True, kw_only=True):
    """What only the practice knows: whom it calls, and who it is. Copied into the incident when it opens
    (and again when the settings were completed since); the national contacts are written in the code."""

    it_name: str = ""
    it_phone: str = ""
    insurer_name: str = ""
    insurer_phone: str = ""
    policy_number: str = ""
    practice_name: str = ""
    practitioner: str = ""
    rpps: str = ""
    address: str = ""
    practice_phone: str = ""
    ars_contact: str = ""

    def is_empty(self) -> bool:
        return not any(msgspec.structs.astuple(self))


def configured_contacts(config: Config | None = None) -> IncidentContacts:
    """The IT provider, the insurer and the practice from the settings (sections `contacts` and `practice`,
    usually set and locked by the IT provider's policy). Without a configuration (the guide window), it is
    read here: a keyring that cannot answer gives the policy's values alone, and empty ones make the guide
    say where to look."""
    if config is None:
        from vigie.config import ConfigStore

        config = ConfigStore().load().config
    known, practice = config.contacts, config.practice
    return IncidentContacts(it_name=known.it_provider_name, it_phone=known.it_provider_phone,
                            insurer_name=known.insurer_name, insurer_phone=known.insurer_phone,
                            policy_number=known.insurance_policy_number, practice_name=practice.name,
                            practitioner=practice.practitioner, rpps=practice.rpps, address=practice.address,
                            practice_phone=practice.phone, ars_contact=practice.ars_contact)


@dataclass(frozen=True)
class Contact:
    key: str  # recorded when the user says the call is done
    title: Text
    lines: tuple[Text, ...]


IT_PROVIDER, CYBER_17, ARS, INSURER = "it_provider", "17cyber", "ars", "insurer"
CONTACT_KEYS = (IT_PROVIDER, CYBER_17, ARS, INSURER)
WHY_REPORT = T("Why report it? Each report helps investigators find the attackers and shows how often practices "
               "are targeted. That is how help for caregivers gets built.")


def contact_list(contacts: IncidentContacts) -> tuple[Contact, ...]:
    """In the order to alert them: the IT provider first, who can act on the computer."""
    return (
        Contact(IT_PROVIDER, T("Your IT provider"), _it_lines(contacts)),
        Contact(CYBER_17, T("17Cyber (police and gendarmerie)"), (
            T("On another device, go to 17cyber.gouv.fr (or cybermalveillance.gouv.fr): it guides you to report "
              "the attack and to file a complaint."),
            T("In an emergency, call 17."),
        )),
        Contact(ARS, ars_title(contacts), _ars_lines(contacts)),
        Contact(INSURER, T("Your insurer"), _insurer_lines(contacts)),
    )


def _it_lines(contacts: IncidentContacts) -> tuple[Text, ...]:
    if not (contacts.it_name or contacts.it_phone):
        return (T("Not filled in: look for their number on an invoice or on the maintenance contract."),)
    return (_call(contacts.it_name, contacts.it_phone),)


def _insurer_lines(contacts: IncidentContacts) -> tuple[Text, ...]:
    lines = []
    if contacts.insurer_name or contacts.insurer_phone:
        lines.append(_call(contacts.insurer_name, contacts.insurer_phone))
    if contacts.policy_number:
        lines.append(T("Policy number: {number}", number=contacts.policy_number))
    if not lines:
        lines.append(T("Not filled in: look at your insurance contract (cyber or professional cover)."))
    lines.append(T("Tell them today: the incident report is made for them too."))
    return tuple(lines)


def _ars_lines(contacts: IncidentContacts) -> tuple[Text, ...]:
    lines = [T("On another device, report the incident on signalement.social-sante.gouv.fr.")]
    if contacts.ars_contact:
        lines.append(T("Your IT provider's note: {contact}", contact=contacts.ars_contact))
    return tuple(lines)


def _call(name: str, phone: str) -> Text:
    if name and phone:
        return T("Call {name} on {phone}.", name=name, phone=phone)
    if phone:
        return T("Call {phone}.", phone=phone)
    return T("{name}: no phone number filled in; look for it on an invoice or on the contract.", name=name)


# --- the regional health agency, from the practice's postal code ---

_REGIONS = {
    "Auvergne-Rhône-Alpes": "01 03 07 15 26 38 42 43 63 69 73 74",
    "Bourgogne-Franche-Comté": "21 25 39 58 70 71 89 90",
    "Bretagne": "22 29 35 56",
    "Centre-Val de Loire": "18 28 36 37 41 45",
    "Corse": "20",
    "Grand Est": "08 10 51 52 54 55 57 67 68 88",
    "Hauts-de-France": "02 59 60 62 80",
    "Île-de-France": "75 77 78 91 92 93 94 95",
    "Normandie": "14 27 50 61 76",
    "Nouvelle-Aquitaine": "16 17 19 23 24 33 40 47 64 79 86 87",
    "Occitanie": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "Pays de la Loire": "44 49 53 72 85",
    "Provence-Alpes-Côte d’Azur": "04 05 06 13 83 84",
    "Guadeloupe": "971", "Martinique": "972", "Guyane": "973", "La Réunion": "974", "Mayotte": "976",
}
_REGION_OF = {code: region for region, codes in _REGIONS.items() for code in codes.split()}
_POSTAL_CODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")


def region_of(address: str) -> str | None:
    """The region of a French postal address (its postal code's département), or None."""
    for code in _POSTAL_CODE.findall(address):
        region = _REGION_OF.get(code[:3]) if code.startswith("97") else _REGION_OF.get(code[:2])
        if region:
            return region
    return None


def ars_title(contacts: IncidentContacts) -> Text:
    region = region_of(contacts.address)
    if region is None:
        return T("Your regional health agency (ARS)")
    return T("Your regional health agency (ARS {region})", region=region)
