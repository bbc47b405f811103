"""The county store's side of sync, in SQL: taking in a hall's batch, the arrival `seq`, the outbox halls pull from.

Every transaction that gives events a county `seq` first takes one advisory lock (`SEQ_LOCK`) and holds it to its
commit. Sequence values are therefore handed out and become visible in the same order: a hall pulling with
`seq > cursor` can never see seq 12 while seq 11 is still uncommitted and skip it for good.

Who pulls what: `case_holders` says which halls hold a case (where it was registered, where it was diverted to);
each new event is queued in `county_outbox` for every holder except the hall it came from, and a hall that
becomes a holder (a diversion) is sent the case's whole history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from desk.core.events import Diverted, Event
from desk.core.ids import new_id
from desk.errors import DeskError
from desk.store import projections
from desk.store.base import Base
from desk.store.bulk import copy_tuples, insert_rows
from desk.store.events import EVENT_COLUMNS, advance_clock, as_event, event_of, payload_json, row_values
from desk.store.models import (
    AuditRow,
    CaseEvent,
    CaseHolder,
    CaseRow,
    Hall,
    OutboxRow,
    RoomRow,
    SyncAlert,
    SyncMeta,
)
from desk.store.session import Store

SEQ_LOCK = 0x6465736B  # "desk"
ROLE = "role"
REFERENCE_VERSION = "reference_version"


class BatchRefused(DeskError):
    """The county refused a hall's batch as a whole (nothing of it was written); `kind` names why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class HallIdentity:
    code: str
    name: str
    phone: str = ""


# --- facts about a store -----------------------------------------------------------------------------------


def get_meta(session: Session, key: str) -> str | None:
    return session.scalar(sa.select(SyncMeta.value).where(SyncMeta.key == key))


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(SyncMeta, key)
    if row is None:
        session.add(SyncMeta(key=key, value=value))
    else:
        row.value = value
    session.flush()


def store_role(store: Store) -> str:
    """ "county" or "hall" (a store that never said is a hall)."""
    with store.read() as s:
        return get_meta(s, ROLE) or "hall"


def take_seq_lock(session: Session) -> None:
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQ_LOCK})


def lock_cases(session: Session, case_ids: Sequence[str]) -> None:
    """Before folding cases again from their log (PostgreSQL): wait for any transaction that is changing one of
    them (a terminal of the hall, a diversion at the county) and keep the others off until the commit, so the
    fold sees every event. Taken before the sequence lock, in the order a county transaction takes them.
    (SQLite: the IMMEDIATE transaction keeps every other writer out already.)"""
    if session.get_bind().dialect.name != "postgresql":
        return
    for chunk in projections._chunks(list(case_ids)):
        session.execute(
            sa.select(CaseRow.id).where(CaseRow.id.in_(chunk)).order_by(CaseRow.id).with_for_update()
        )


def _next_seqs(session: Session, n: int) -> range:
    """`n` consecutive county seqs, in one statement. Only under SEQ_LOCK: no other transaction takes any
    between the nextval and the setval."""
    last: int = session.execute(
        sa.text("SELECT setval('case_event_seq', nextval('case_event_seq') + :n - 1)"), {"n": n}
    ).scalar_one()
    return range(int(last) - n + 1, int(last) + 1)


# --- pushes from a hall ------------------------------------------------------------------------------------


def register_hall(session: Session, hall: HallIdentity, now: dt.datetime) -> Hall:
    """The halls registry: a hall registers itself with its code on its first sync; the row is then locked
    for this transaction, so two pushes of one hall take turns."""
    row = session.scalar(sa.select(Hall).where(Hall.code == hall.code).with_for_update())
    if row is None:
        ins = (
            pg_insert(Hall)
            .values(
                code=hall.code,
                name=hall.name,
                phone=hall.phone,
                last_seq=0,
                is_local=False,
                acked_seq=0,
                registered_at=now,
            )
            .on_conflict_do_nothing()
        )
        session.execute(ins)
        row = session.scalar(sa.select(Hall).where(Hall.code == hall.code).with_for_update())
        assert row is not None
    if row.is_local:
        raise BatchRefused("identity", f"综治中心代码 {hall.code} 与县级库自身的代码相同，不能作为下级同步")
    return row


def alert(store: Store, hall_code: str, kind: str, detail: str, now: dt.datetime) -> None:
    """Record a refused batch for the supervisor, in a transaction of its own (the batch itself was rolled back)."""
    with store.unit_of_work() as s:
        s.add(SyncAlert(id=new_id(), hall_code=hall_code, kind=kind, detail=detail[:500], at=now))


def receive_push(session: Session, hall: HallIdentity, events: Sequence[Event], now: dt.datetime) -> int:
    """Take in a batch of one hall's events, in hall_seq order; returns the hall_seq the county now holds
    everything up to. Events it already has are checked and skipped; a gap or a number reused for another
    event refuses the whole batch (`BatchRefused`). The projections and the outbox are updated in the same
    transaction, which the caller commits."""
    row = register_hall(session, hall, now)
    acked = int(row.acked_seq)
    if not events:
        row.last_push_at = now  # "last contact": an idle round counts
        return acked
    seqs = [e.hall_seq for e in events]
    if any(e.hall_code != hall.code for e in events):
        raise BatchRefused("identity", f"批次中有不属于综治中心 {hall.code} 的事件，整批未写入")
    if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        raise BatchRefused("gap", f"综治中心 {hall.code} 的事件序号不连续，整批未写入")
    if seqs[0] > acked + 1:
        raise BatchRefused(
            "gap",
            f"综治中心 {hall.code} 的事件缺号：县级库已有至第 {acked} 号，本批从第 {seqs[0]} 号开始，"
            "整批未写入",
        )
    seen = [e for e in events if e.hall_seq <= acked]
    if seen:
        known: dict[int, str] = {
            int(n): str(i)
            for n, i in session.execute(
                sa.select(CaseEvent.hall_seq, CaseEvent.id).where(
                    CaseEvent.hall_code == hall.code,
                    CaseEvent.hall_seq.between(seen[0].hall_seq, seen[-1].hall_seq),
                )
            )
        }
        reused = [e.hall_seq for e in seen if known.get(e.hall_seq) != e.id]
        if reused:
            raise BatchRefused(
                "reused",
                f"综治中心 {hall.code} 的第 {reused[0]} 号事件与县级库已收到的不是同一事件"
                "（本机可能从旧备份恢复），整批未写入，请联系县级管理员",
            )
    new = [e for e in events if e.hall_seq > acked]
    if new:
        # The county's clock moves past what it takes in, in the sending hall's row (locked above)
        advance_clock(session, max(e.hlc for e in new), hall_code=hall.code)
        # A case registered in this very batch is new to the county: nothing else can hold or touch it yet.
        born = {e.case_id for e in new if e.kind == "registered"}
        older = sorted({e.case_id for e in new} - born)
        lock_cases(session, older)
        take_seq_lock(session)
        # Read the cases' events only now: a push of another hall that touched them may have committed while
        # this one waited for the lock, and folding without its events would leave the projections behind.
        earlier = projections.load_events(session, older)
        _copy_events(session, new, _next_seqs(session, len(new)))
        projections.ingest(session, new, earlier)
        publish(session, new, earlier)
        row.acked_seq = new[-1].hall_seq
    row.last_push_at = now
    session.flush()
    return int(row.acked_seq)


def audit_held(session: Session, hall_code: str) -> int:
    """The newest audit entry of `hall_code` the county holds (0: none); the hall sends those after it."""
    from desk.store.queries.audit import last_hall_seq

    return last_hall_seq(session, hall_code)


def receive_audit(session: Session, hall_code: str, rows: Sequence[dict[str, Any]]) -> None:
    """Take in a batch of a hall's audit entries (`desk.store.queries.audit.entries_after`). An entry the county
    has already, by (hall_code, hall_seq), is skipped: a batch sent twice (a lost acknowledgment) does no harm.
    Inserted only -- the county never updates or deletes an entry either."""
    if not rows:
        return
    if any(r["hall_code"] != hall_code for r in rows):
        raise BatchRefused("identity", f"审计记录中有不属于综治中心 {hall_code} 的条目，整批未写入")
    session.execute(pg_insert(AuditRow).on_conflict_do_nothing(), list(rows))


ROOM_COLUMNS = (
    "id",
    "hall_code",
    "code",
    "name",
    "kind",
    "prefix",
    "capacity",
    "location",
    "categories",
    "primary_categories",
    "is_open",
    "position",
    "staff",
    "departments",
)


def hall_rooms(session: Session, hall_code: str) -> tuple[str, list[dict[str, Any]]]:
    """A hall's rooms as plain rows, and their digest (what changes when a room is edited)."""
    rows = [
        {c: getattr(r, c) for c in ROOM_COLUMNS}
        for r in session.scalars(
            sa.select(RoomRow).where(RoomRow.hall_code == hall_code).order_by(RoomRow.code)
        )
    ]
    digest = hashlib.sha256(orjson.dumps(rows, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return digest, rows


def offer_rooms(session: Session, hall_code: str, digest: str, rows: Sequence[dict[str, Any]]) -> bool:
    """Keep the county's copy of a hall's rooms (the status page names the room and where it is); the rows are
    replaced only when their digest differs from the one last sent. Returns whether they were."""
    hall = session.get(Hall, hall_code)
    if hall is None or hall.rooms_digest == digest:
        return False
    session.execute(sa.delete(RoomRow).where(RoomRow.hall_code == hall_code))
    session.add_all(RoomRow(**r) for r in rows)
    hall.rooms_digest = digest
    session.flush()
    return True


def event_id_at(session: Session, hall_code: str, hall_seq: int) -> str | None:
    """The id of the event the county holds under this hall's number (None if it holds none)."""
    return session.scalar(
        sa.select(CaseEvent.id).where(CaseEvent.hall_code == hall_code, CaseEvent.hall_seq == hall_seq)
    )


def _copy_events(session: Session, events: Sequence[Event], seqs: Sequence[int]) -> None:
    """COPY the events, with their county seqs, into case_events: the payload's JSON text as the hall sent it."""

    def row(e: Event, seq: int) -> tuple[Any, ...]:
        at = e.occurred_at
        at = (at.astimezone(dt.UTC) if at.utcoffset() else at).replace(tzinfo=None)
        return (
            e.id,
            e.hall_code,
            e.hall_seq,
            e.case_id,
            e.kind,
            payload_json(e),
            at,
            e.actor,
            e.schema_version,
            seq,
            e.hlc,
        )

    copy_tuples(session, "case_events", EVENT_COLUMNS, map(row, events, seqs))


# --- the outbox --------------------------------------------------------------------------------------------


def publish(session: Session, new: Sequence[Event], earlier: dict[str, list[Event]]) -> None:
    """Queue new events for the halls that hold their cases (not back to the hall they came from); a hall
    a case was just diverted to gets the case's whole history."""
    case_ids = sorted({e.case_id for e in new})
    remote = set(session.scalars(sa.select(Hall.code).where(Hall.is_local.is_(False))))
    holders: dict[str, set[str]] = defaultdict(set)
    for chunk in projections._chunks(case_ids):
        for cid, code in session.execute(
            sa.select(CaseHolder.case_id, CaseHolder.hall_code).where(CaseHolder.case_id.in_(chunk))
        ):
            holders[cid].add(code)
    by_case: dict[str, list[Event]] = defaultdict(list)
    for e in new:
        by_case[e.case_id].append(e)
    new_holders: list[dict[str, str]] = []
    outbox: list[dict[str, str]] = []
    for cid, evs in by_case.items():
        before = holders[cid]
        after = set(before)
        for e in evs:
            if e.kind == "registered" and e.hall_code in remote:
                after.add(e.hall_code)
            elif isinstance(e.body, Diverted):
                after.add(e.body.to_hall)
        new_holders += [{"case_id": cid, "hall_code": h} for h in sorted(after - before)]
        for h in sorted(after):
            send = evs if h in before else [*earlier.get(cid, []), *evs]
            outbox += [{"hall_code": h, "event_id": e.id} for e in send if e.hall_code != h]
    insert_rows(session, Base.metadata.tables["case_holders"], new_holders)
    insert_rows(session, Base.metadata.tables["county_outbox"], outbox)


def publish_local(session: Session) -> None:
    """Before a county transaction commits: events it appended itself (a case registered and diverted at the
    county, a change made there) get their `seq` and go to the outbox like pushed ones."""
    appended: list[CaseEvent] = session.info.pop("appended_events", [])
    if not appended:
        return
    session.flush()
    ids = [e.id for e in appended]
    take_seq_lock(session)
    for ev, seq in zip(appended, _next_seqs(session, len(appended)), strict=True):
        ev.seq = seq
    session.flush()
    new = [as_event(e) for e in appended]
    everything = projections.load_events(session, sorted({e.case_id for e in new}))
    earlier = {cid: [e for e in evs if e.id not in set(ids)] for cid, evs in everything.items()}
    publish(session, new, earlier)


def install(store: Store) -> None:
    """Make every transaction on this county store give the events it appends a `seq` and an outbox entry."""
    store.before_commit(publish_local)


# --- pulls by a hall ---------------------------------------------------------------------------------------


def outbox_since(session: Session, hall_code: str, after: int, limit: int) -> list[tuple[int, Event]]:
    """The next events queued for a hall, by outbox seq."""
    cols = [getattr(CaseEvent, c) for c in EVENT_COLUMNS]
    rows = session.execute(
        sa.select(OutboxRow.seq, *cols)
        .join(CaseEvent, CaseEvent.id == OutboxRow.event_id)
        .where(OutboxRow.hall_code == hall_code, OutboxRow.seq > after)
        .order_by(OutboxRow.seq)
        .limit(limit)
    )
    return [(int(r[0]), event_of(r[1:])) for r in rows]


def take_in(session: Session, events: Sequence[Event]) -> int:
    """A hall takes in events pulled from the county: those it lacks are inserted and their cases folded again
    from the union. Returns how many were new. Safe to repeat."""
    if not events:
        return 0
    ids = [e.id for e in events]
    have: set[str] = set()
    for chunk in projections._chunks(ids):
        have |= set(session.scalars(sa.select(CaseEvent.id).where(CaseEvent.id.in_(chunk))))
    new = list({e.id: e for e in events if e.id not in have}.values())
    if not new:
        return 0
    case_ids = sorted({e.case_id for e in new})
    advance_clock(
        session, max(e.hlc for e in new)
    )  # before the cases: a terminal's append locks in that order
    lock_cases(session, case_ids)
    earlier = projections.load_events(session, case_ids)
    session.execute(sa.insert(CaseEvent), [row_values(e) for e in new])
    projections.ingest(session, new, earlier)
    return len(new)
