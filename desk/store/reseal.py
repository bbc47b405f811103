"""Sealing the personal fields of a store again under the current data key (`desk keys rotate`, and a store
written before encryption): the registered and repeat-visit events, the mediation sessions' statements and what
was agreed, the parties and the cases. A birth date written before encryption (it is the middle of the ID
number) is dropped for its age band on the day of the registration.

Each batch of rows is one transaction, and a row already under the current key is left as it is, so the work is
idempotent and resumable: a run stopped half-way (a crash, a power cut) is finished by running it again. The
blind indexes a row lacks are filled from the plaintext on the way.

The field names are the vault's associated data: exactly "id_number", "phone", "address" and "narrative".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from desk.core.clock import local_date
from desk.core.events import EventKind
from desk.core.grids import age_band
from desk.core.parties import normalise_id_number, normalise_phone
from desk.security.vault import PREFIX, Vault, key_id_of
from desk.store.models import CaseEvent, CaseRow, PartyRow
from desk.store.session import Store

logger = logging.getLogger(__name__)

BATCH = 2000
PARTY_FIELDS = ("id_number", "phone", "address")
NARRATIVE = "narrative"
VISIT_KINDS = (EventKind.REGISTERED.value, EventKind.REPEAT_VISIT.value)
SESSION_KIND = EventKind.SESSION_RECORDED.value
SEALED_KINDS = (*VISIT_KINDS, SESSION_KIND)
# progress(stage, rows looked at so far in that stage)
Progress = Callable[[str, int], None]
STAGE_LABELS = {"events": "案件事件", "parties": "当事人", "cases": "案件"}


@dataclass(frozen=True)
class ResealReport:
    """How many rows were written again (rows already under the current key are not counted)."""

    events: int
    parties: int
    cases: int

    @property
    def total(self) -> int:
        return self.events + self.parties + self.cases


def _index_of(vault: Vault, field: str, plain: str | None) -> str | None:
    if not plain:
        return None
    if field == "id_number":
        return vault.index("id", normalise_id_number(plain))
    return vault.index("phone", normalise_phone(plain))


def _drop_birth_date(party: dict[str, Any], day: dt.date | None) -> bool:
    """A birth date in clear becomes its age band on `day` (the registration's); True if one was dropped."""
    raw = party.get("birth_date")
    if not raw:
        return False
    born = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw)[:10])
    if day is not None and not party.get("age_band"):
        party["age_band"] = age_band(born, day)
    party["birth_date"] = None
    return True


def _reseal_party(vault: Vault, party: dict[str, Any], day: dt.date | None = None) -> bool:
    """Reseal a party's fields in place (an event's party dict or a parties row's values); fills the missing
    blind indexes; a birth date in clear becomes the age band on `day`. True if anything changed."""
    changed = _drop_birth_date(party, day)
    for name in PARTY_FIELDS:
        value = party.get(name)
        if not isinstance(value, str) or not value:
            continue
        index_name = {"id_number": "id_index", "phone": "phone_index"}.get(name)
        needs_index = index_name is not None and not party.get(index_name)
        if key_id_of(value) == vault.current and not needs_index:
            continue
        plain = vault.open(value, field=name)
        if index_name is not None and needs_index:
            party[index_name] = _index_of(vault, name, plain)
            changed = True
        sealed = vault.reseal(value, field=name)
        if sealed != value:
            party[name] = sealed
            changed = True
    return changed


def _reseal_visit(vault: Vault, visit: dict[str, Any], day: dt.date | None = None) -> bool:
    """Reseal a visit's narrative and its parties in place; True if anything changed."""
    changed = False
    narrative = visit.get(NARRATIVE)
    if isinstance(narrative, str) and narrative:
        sealed = vault.reseal(narrative, field=NARRATIVE)
        if sealed != narrative:
            visit[NARRATIVE] = sealed
            changed = True
    parties = visit.get("parties")
    if isinstance(parties, list):
        for party in parties:
            if isinstance(party, dict) and _reseal_party(vault, party, day):
                changed = True
    return changed


def _reseal_session(vault: Vault, session: dict[str, Any]) -> bool:
    """Reseal a session record's statements and what was agreed in place; True if anything changed."""
    changed = False
    agreed = session.get("agreed")
    if isinstance(agreed, str) and agreed:
        sealed = vault.reseal(agreed, field=NARRATIVE)
        if sealed != agreed:
            session["agreed"] = sealed
            changed = True
    for statement in session.get("statements") or ():
        text = statement.get("text") if isinstance(statement, dict) else None
        if isinstance(text, str) and text:
            sealed = vault.reseal(text, field=NARRATIVE)
            if sealed != text:
                statement["text"] = sealed
                changed = True
    return changed


def reseal_payload(
    vault: Vault, kind: str, payload: dict[str, Any], day: dt.date | None = None
) -> dict[str, Any] | None:
    """The payload of a `kind` event with its sealed fields under the current key; None if nothing changes.
    `day`: the China-time day the event was written (for the age band of a birth date written in clear)."""
    import copy

    new = copy.deepcopy(payload)
    if kind == EventKind.REGISTERED.value:
        changed = _reseal_visit(vault, new, day)
    elif kind == EventKind.REPEAT_VISIT.value and isinstance(new.get("visit"), dict):
        changed = _reseal_visit(vault, new["visit"], day)
    elif kind == SESSION_KIND:
        changed = _reseal_session(vault, new)
    else:
        return None
    return new if changed else None


def _batches(
    store: Store,
    select: Callable[[str | None], Any],
    work: Callable[[Any, list[Any]], int],
    stage: str,
    progress: Progress | None,
) -> int:
    """Run `work(session, rows)` over the rows `select(after_id)` yields, one transaction per batch, in id order;
    returns the sum of what `work` returned."""
    after: str | None = None
    seen = changed = 0
    while True:
        with store.unit_of_work() as session:
            rows = list(session.execute(select(after)))
            if not rows:
                break
            changed += work(session, rows)
        after = rows[-1][0]
        seen += len(rows)
        if progress is not None:
            progress(stage, seen)
    logger.info("重新加密 %s：检查 %d 行，改写 %d 行", stage, seen, changed)
    return changed


def _reseal_events(store: Store, vault: Vault, batch: int, progress: Progress | None) -> int:
    def select(after: str | None) -> Any:
        q = sa.select(CaseEvent.id, CaseEvent.kind, CaseEvent.payload, CaseEvent.occurred_at).where(
            CaseEvent.kind.in_(SEALED_KINDS)
        )
        if after is not None:
            q = q.where(CaseEvent.id > after)
        return q.order_by(CaseEvent.id).limit(batch)

    def work(session: Any, rows: list[Any]) -> int:
        updates = []
        for id_, kind, payload, occurred_at in rows:
            if isinstance(payload, dict):
                new = reseal_payload(vault, kind, payload, local_date(occurred_at))
                if new is not None:
                    updates.append({"id": id_, "payload": new})
        if updates:  # an ORM bulk UPDATE by primary key: one executemany
            session.execute(sa.update(CaseEvent), updates)
        return len(updates)

    return _batches(store, select, work, "events", progress)


def _reseal_parties(store: Store, vault: Vault, batch: int, progress: Progress | None) -> int:
    cols = (
        PartyRow.id,
        PartyRow.id_number,
        PartyRow.phone,
        PartyRow.address,
        PartyRow.id_index,
        PartyRow.phone_index,
        PartyRow.birth_date,
        PartyRow.age_band,
        CaseRow.registered_at,
    )

    def select(after: str | None) -> Any:
        q = sa.select(*cols).join(CaseRow, CaseRow.id == PartyRow.case_id)
        if after is not None:
            q = q.where(PartyRow.id > after)
        return q.order_by(PartyRow.id).limit(batch)

    def work(session: Any, rows: list[Any]) -> int:
        updates = []
        for id_, id_number, phone, address, id_index, phone_index, born, band, registered_at in rows:
            values: dict[str, Any] = {
                "id_number": id_number,
                "phone": phone,
                "address": address,
                "id_index": id_index,
                "phone_index": phone_index,
                "birth_date": born,
                "age_band": band,
            }
            if _reseal_party(vault, values, local_date(registered_at)):
                updates.append({"id": id_, **values})
        if updates:
            session.execute(sa.update(PartyRow), updates)
        return len(updates)

    return _batches(store, select, work, "parties", progress)


def _reseal_cases(store: Store, vault: Vault, batch: int, progress: Progress | None) -> int:
    def select(after: str | None) -> Any:
        q = sa.select(CaseRow.id, CaseRow.narrative)
        if after is not None:
            q = q.where(CaseRow.id > after)
        return q.order_by(CaseRow.id).limit(batch)

    def work(session: Any, rows: list[Any]) -> int:
        updates = []
        for id_, narrative in rows:
            sealed = vault.reseal(narrative, field=NARRATIVE)
            if sealed != narrative:
                updates.append({"id": id_, "narrative": sealed})
        if updates:
            session.execute(sa.update(CaseRow), updates)
        return len(updates)

    return _batches(store, select, work, "cases", progress)


def reseal(
    store: Store, vault: Vault, *, progress: Progress | None = None, batch: int = BATCH
) -> ResealReport:
    """Seal every personal field of `store` under `vault`'s current key (plaintext from before encryption
    included), filling missing blind indexes; on SQLite the file is then rebuilt, so no old bytes stay in free
    pages. Safe to run again; a stopped run is finished by running again."""
    events = _reseal_events(store, vault, batch, progress)
    parties = _reseal_parties(store, vault, batch, progress)
    cases = _reseal_cases(store, vault, batch, progress)
    report = ResealReport(events, parties, cases)
    if report.total and store.engine.dialect.name == "sqlite":
        _forget_old_pages(store)
    return report


def _forget_old_pages(store: Store) -> None:
    """SQLite keeps a rewritten row's old bytes in free pages and in the WAL: rebuild the file (VACUUM) and empty
    the WAL, so the plaintext or the old key's text is gone from the disk, not only from the tables."""
    raw = store.engine.raw_connection()  # the store's own connections begin a transaction; VACUUM may not
    try:
        db = raw.driver_connection
        assert db is not None
        if db.in_transaction:
            db.commit()
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


# --- is there anything to do? ----------------------------------------------------------------------------------


def _stale(column: Any, kid: str) -> Any:
    """`column` holds a value not sealed under key `kid` (plaintext, or an older key)."""
    pattern = f"{PREFIX}{kid}:".replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return sa.and_(column.is_not(None), column != "", column.not_like(pattern, escape="\\"))


def _missing_index(value: Any, index: Any) -> Any:
    return sa.and_(value.is_not(None), value != "", sa.or_(index.is_(None), index == ""))


def needs_reseal(store: Store, vault: Vault) -> bool:
    """Whether any row is not under the current key or lacks a blind index. Exact for the parties and the cases;
    for the events it checks each visit's narrative and its first party (a batch reseals an event whole)."""
    kid = vault.current
    with store.read() as s:
        party = sa.or_(
            *(_stale(getattr(PartyRow, f), kid) for f in PARTY_FIELDS),
            _missing_index(PartyRow.id_number, PartyRow.id_index),
            _missing_index(PartyRow.phone, PartyRow.phone_index),
        )
        party = sa.or_(party, PartyRow.birth_date.is_not(None))
        if s.execute(sa.select(PartyRow.id).where(party).limit(1)).first() is not None:
            return True
        if (
            s.execute(sa.select(CaseRow.id).where(_stale(CaseRow.narrative, kid)).limit(1)).first()
            is not None
        ):
            return True
        for kind in VISIT_KINDS:
            base: tuple[str, ...] = () if kind == EventKind.REGISTERED.value else ("visit",)

            def path(*keys: str | int, _base: tuple[str, ...] = base) -> Any:
                return CaseEvent.payload[(*_base, *keys)].as_string()

            cond = sa.or_(
                _stale(path(NARRATIVE), kid),
                *(_stale(path("parties", 0, f), kid) for f in PARTY_FIELDS),
                _missing_index(path("parties", 0, "id_number"), path("parties", 0, "id_index")),
                _missing_index(path("parties", 0, "phone"), path("parties", 0, "phone_index")),
            )
            if (
                s.execute(sa.select(CaseEvent.id).where(CaseEvent.kind == kind, cond).limit(1)).first()
                is not None
            ):
                return True
        said = sa.or_(
            _stale(CaseEvent.payload[("agreed",)].as_string(), kid),
            _stale(CaseEvent.payload[("statements", 0, "text")].as_string(), kid),
        )
        if s.execute(sa.select(CaseEvent.id).where(CaseEvent.kind == SESSION_KIND, said).limit(1)).first():
            return True
    return False
