"""Whom to alert, as text to read out or dial from another phone: the guide works offline."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from vigie.config.schema import Config
from vigie.model import T, Text


class IncidentContacts(msgspec.Struct, frozen=True, kw_only=True):
    """What only the practice knows; the national contacts are written in the code."""

    it_name: str = ""
    it_phone: str = ""
    insurer_name: str = ""
    insurer_phone: str = ""
    policy_number: str = ""

    def is_empty(self) -> bool:
        return not any(msgspec.structs.astuple(self))


def configured_contacts(config: Config | None = None) -> IncidentContacts:
    """The IT provider and insurer from the settings (section `contacts`, usually set and locked by the
    IT provider's policy). Without a configuration (the guide window), it is read here: a keyring that
    cannot answer gives the policy's values alone, and empty ones make the guide say where to look."""
    if config is None:
        from vigie.config import ConfigStore

        config = ConfigStore().load().config
    known = config.contacts
    return IncidentContacts(it_name=known.it_provider_name, it_phone=known.it_provider_phone,
                            insurer_name=known.insurer_name, insurer_phone=known.insurer_phone,
                            policy_number=known.insurance_policy_number)


@dataclass(frozen=True)
class Contact:
    key: str  # recorded when the user says the call is done
    title: Text
    lines: tuple[Text, ...]


IT_PROVIDER, CYBER_17, ARS, INSURER = "it_provider", "17cyber", "ars", "insurer"
CONTACT_KEYS = (IT_PROVIDER, CYBER_17, ARS, INSURER)


def contact_list(contacts: IncidentContacts) -> tuple[Contact, ...]:
    """In the order to call them: the IT provider first, who can act on the computer."""
    return (
        Contact(IT_PROVIDER, T("Your IT provider"), _it_lines(contacts)),
        Contact(CYBER_17, T("17Cyber (police and gendarmerie)"), (
            T("From another device: 17cyber.gouv.fr or cybermalveillance.gouv.fr, which guide you to a complaint."),
            T("In an emergency, dial 17."),
        )),
        Contact(ARS, T("Your regional health agency (ARS)"), (
            T("Report the incident to your ARS: signalement.social-sante.gouv.fr or its website."),
        )),
        Contact(INSURER, T("Your insurer"), _insurer_lines(contacts)),
    )


def _it_lines(contacts: IncidentContacts) -> tuple[Text, ...]:
    if not (contacts.it_name or contacts.it_phone):
        return (T("Not filled in: look for their number on an invoice or on the maintenance contract."),)
    return (_name_and_phone(contacts.it_name, contacts.it_phone),)


def _insurer_lines(contacts: IncidentContacts) -> tuple[Text, ...]:
    lines = []
    if contacts.insurer_name or contacts.insurer_phone:
        lines.append(_name_and_phone(contacts.insurer_name, contacts.insurer_phone))
    if contacts.policy_number:
        lines.append(T("Policy number: {number}", number=contacts.policy_number))
    if not lines:
        lines.append(T("Not filled in: look at your insurance contract (cyber or professional cover)."))
    lines.append(T("Tell them today: the incident report is made for them too."))
    return tuple(lines)


def _name_and_phone(name: str, phone: str) -> Text:
    if name and phone:
        return T("{name} — phone: {phone}", name=name, phone=phone)
    if phone:
        return T("Phone: {phone}", phone=phone)
    return T("{name} (no phone number filled in)", name=name)
