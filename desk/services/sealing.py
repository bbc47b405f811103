"""Personal data at rest: sealing a visit before the log keeps it, opening (and masking) what the screens show.

Sealed (AES-GCM, `desk.security.vault`), each under its field name: a party's ID number (``id_number``), phone
(``phone``) and address (``address``), the visit's narrative and a session's statements and agreement
(``narrative``). Found without the plaintext through the blind index: ``vault.index("id", id)`` and
``vault.index("phone", phone)`` of the normalised values (`id_key`, `phone_key`), the same at registration and
at every lookup.

Derived at registration and kept unencrypted, for reports and routing (none identifies a person on its own, nor
with the others: see `desk.core.grids`): a party's sex and age band (from the ID number, on the registration
day) and grid code (the township or street of the address); the case's grid code (its applicant's). The birth
date is no longer written.

The store and the fold never hold a key: the services seal before they append and open after they read. What
leaves a service is masked (`mask_id_number`, `mask_phone`, `mask_address`) unless the caller asked for the full
record (`reveal=True`, a guarded and audited read).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from desk.core import events as ev
from desk.core.grids import age_band, bundled_grids, grid_of
from desk.core.parties import (
    mask_id_number,
    mask_phone,
    normalise_id_number,
    normalise_phone,
    parse_id_number,
    parse_phone,
)
from desk.errors import ValidationError
from desk.security.vault import is_sealed

if TYPE_CHECKING:
    from desk.security.vault import Vault
    from desk.store.queries.cases import DivertedCase
    from desk.store.repositories import CaseDetail, CaseSummary, EventView, PartyView

ID_NUMBER, PHONE, ADDRESS, NARRATIVE = "id_number", "phone", "address", "narrative"

_S = TypeVar("_S", "CaseSummary", "DivertedCase")


# --- keys of the blind index ---------------------------------------------------------------------------------


def id_key(id_number: str) -> str:
    """An ID number as its blind index is computed: full-width folded, spaces dropped, `x` as `X`."""
    return normalise_id_number(id_number)


def phone_key(phone: str) -> str:
    """A phone as its blind index is computed: as registration stores it (13912345678, 0936-8212345)."""
    try:
        return parse_phone(phone).value
    except ValidationError:
        return normalise_phone(phone)


def id_index(vault: Vault, id_number: str | None) -> str | None:
    return vault.index("id", id_key(id_number)) if id_number else None


def phone_index(vault: Vault, phone: str | None) -> str | None:
    return vault.index("phone", phone_key(phone)) if phone else None


# --- sealing ----------------------------------------------------------------------------------------------------


def birth_date_of(id_number: str | None, *, today: dt.date) -> dt.date | None:
    """The birth date an ID number holds (None if there is no valid one)."""
    if not id_number or is_sealed(id_number):
        return None
    try:
        return parse_id_number(id_number, today=today).birth_date
    except ValidationError:
        return None


def seal_party(p: ev.PartyRecord, vault: Vault, day: dt.date) -> ev.PartyRecord:
    """A party as the log keeps it: ID number, phone and address sealed, their indexes, the age band on `day`
    and the grid of the address; no birth date. Sealing a sealed party changes nothing."""
    if is_sealed(p.id_number) or is_sealed(p.phone) or is_sealed(p.address):
        return p
    born = p.birth_date or birth_date_of(p.id_number, today=day)
    return dataclasses.replace(
        p,
        id_number=vault.seal(p.id_number, field=ID_NUMBER),
        phone=vault.seal(p.phone, field=PHONE),
        address=vault.seal(p.address, field=ADDRESS) or "",
        birth_date=None,
        id_index=id_index(vault, p.id_number),
        phone_index=phone_index(vault, p.phone),
        age_band=p.age_band or age_band(born, day),
        grid_code=p.grid_code or grid_of(p.address, bundled_grids()),
    )


def seal_visit(record: ev.VisitRecord, vault: Vault, day: dt.date) -> ev.VisitRecord:
    """A visit as the log keeps it (`day`: the registration day, China time, for the age bands). The caller has
    used the plaintext already (risk flags from the narrative, the repeat-visit checks by index)."""
    return dataclasses.replace(
        record,
        narrative=vault.seal(record.narrative, field=NARRATIVE) or "",
        parties=tuple(seal_party(p, vault, day) for p in record.parties),
    )


def seal_session(body: ev.SessionRecorded, vault: Vault) -> ev.SessionRecorded:
    """A session record with what each side said and what was agreed sealed (free narrative)."""
    return dataclasses.replace(
        body,
        statements=tuple(
            dataclasses.replace(st, text=vault.seal(st.text, field=NARRATIVE) or "") for st in body.statements
        ),
        agreed=vault.seal(body.agreed, field=NARRATIVE) or "",
    )


# --- opening and masking ----------------------------------------------------------------------------------------


def open_narrative(value: str | None, vault: Vault) -> str:
    return vault.open(value, field=NARRATIVE) or ""


def mask_address(address: str) -> str:
    """An address down to its township or street (甘州区梁家墩镇****); else its first few characters."""
    if not address:
        return ""
    for g in sorted(bundled_grids(), key=lambda g: -len(g.name)):
        at = address.find(g.name)
        if at >= 0:
            end = at + len(g.name)
            return address[:end] + ("****" if end < len(address) else "")
    keep = min(6, len(address) // 3)
    return address[:keep] + "****"


def open_party(
    p: PartyView, vault: Vault, *, reveal: bool = False, today: dt.date | None = None
) -> PartyView:
    """A party's particulars opened; masked unless `reveal` (then with the birth date read from the ID number,
    which is no longer stored: `today` bounds it)."""
    id_number = vault.open(p.id_number, field=ID_NUMBER)
    phone = vault.open(p.phone, field=PHONE)
    address = vault.open(p.address, field=ADDRESS) or ""
    if reveal:
        born = p.birth_date or birth_date_of(id_number, today=today or dt.date.max)
        return dataclasses.replace(p, id_number=id_number, phone=phone, address=address, birth_date=born)
    return dataclasses.replace(
        p,
        id_number=mask_id_number(id_number) if id_number else None,
        phone=mask_phone(phone) if phone else None,
        address=mask_address(address),
        birth_date=None,
    )


def open_parties(
    parties: Iterable[PartyView], vault: Vault, *, reveal: bool = False, today: dt.date | None = None
) -> tuple[PartyView, ...]:
    return tuple(open_party(p, vault, reveal=reveal, today=today) for p in parties)


def _open_visit(v: ev.VisitRecord, vault: Vault) -> ev.VisitRecord:
    """A visit of the history: narrative opened, the parties' particulars masked (the history shows none)."""
    parties = tuple(
        dataclasses.replace(
            p,
            id_number=mask_id_number(o) if (o := vault.open(p.id_number, field=ID_NUMBER)) else None,
            phone=mask_phone(o) if (o := vault.open(p.phone, field=PHONE)) else None,
            address=mask_address(vault.open(p.address, field=ADDRESS) or ""),
            birth_date=None,
        )
        for p in v.parties
    )
    return dataclasses.replace(v, narrative=open_narrative(v.narrative, vault), parties=parties)


def open_body(body: ev.EventBody, vault: Vault) -> ev.EventBody:
    """An event's payload as a screen may see it: narrative and session texts opened, particulars masked."""
    if isinstance(body, ev.Registered | ev.RepeatVisit):
        return dataclasses.replace(body, visit=_open_visit(body.visit, vault))
    if isinstance(body, ev.SessionRecorded):
        return dataclasses.replace(
            body,
            statements=tuple(
                dataclasses.replace(st, text=open_narrative(st.text, vault)) for st in body.statements
            ),
            agreed=open_narrative(body.agreed, vault),
        )
    return body


def open_event(e: ev.Event, vault: Vault) -> ev.Event:
    body = open_body(e.body, vault)
    return e if body is e.body else dataclasses.replace(e, body=body)


def open_events(events: Sequence[ev.Event], vault: Vault) -> list[ev.Event]:
    return [open_event(e, vault) for e in events]


def _open_event_view(e: EventView, vault: Vault) -> EventView:
    body = open_body(e.body, vault)
    return e if body is e.body else dataclasses.replace(e, body=body)


def open_detail(
    detail: CaseDetail, vault: Vault, *, reveal: bool = False, today: dt.date | None = None
) -> CaseDetail:
    """A case's details as a service hands them out: the narrative opened, the parties masked (unless `reveal`),
    the history's payloads opened and masked."""
    return dataclasses.replace(
        detail,
        narrative=open_narrative(detail.narrative, vault),
        parties=open_parties(detail.parties, vault, reveal=reveal, today=today),
        events=tuple(_open_event_view(e, vault) for e in detail.events),
    )


def mask_summary(c: _S, vault: Vault) -> _S:
    """A case summary (or diverted case) with its applicant's ID number masked: the store's is sealed."""
    if not is_sealed(c.applicant_id_masked):
        return c
    opened = vault.open(c.applicant_id_masked, field=ID_NUMBER)
    return dataclasses.replace(c, applicant_id_masked=mask_id_number(opened) if opened else "")


def mask_summaries(found: Iterable[_S], vault: Vault) -> list[_S]:
    return [mask_summary(c, vault) for c in found]
