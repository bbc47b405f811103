"""Tables: the case event log, its projections (cases, parties, tickets, whistles, warnings, bookings) and the
reference data (halls, rooms, categories, departments, mediators)."""

# No `from __future__ import annotations` here: SQLAlchemy would have to evaluate every `Mapped[...]` string
# when the classes are mapped, which cost a command's start ~8 ms (a quarter of mapping the models).
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from desk.store.base import Base, JSONType, UTCDateTime

ID = sa.String(36)


class Hall(Base):
    """A reception hall; `last_seq` hands out its gap-free event sequence numbers."""

    __tablename__ = "halls"

    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    last_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # The store's hybrid logical clock, kept in its local hall's row: the greatest stamp appended or taken in.
    last_hlc: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    is_local: Mapped[bool] = mapped_column(default=False)
    # County side: the highest hall_seq received from this hall without a gap (every event up to it is here).
    acked_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    registered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_push_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # County side: the digest of the rooms this hall last sent up (see county.offer_rooms)
    rooms_digest: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")


class Counter(Base):
    """Named per-hall counters (case numbers per year); incremented inside the registering transaction."""

    __tablename__ = "counters"

    hall_code: Mapped[str] = mapped_column(sa.ForeignKey("halls.code"), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class CategoryRow(Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    deadline_class: Mapped[str] = mapped_column(sa.String(20))
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class RoomRow(Base):
    """A room of "one hall + N rooms", with the categories it handles and its queue prefix."""

    __tablename__ = "rooms"
    __table_args__ = (
        sa.UniqueConstraint("hall_code", "code"),
        sa.UniqueConstraint("hall_code", "prefix"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    hall_code: Mapped[str] = mapped_column(sa.ForeignKey("halls.code"))
    code: Mapped[str] = mapped_column(sa.String(12))
    name: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(20))
    prefix: Mapped[str] = mapped_column(sa.String(2))
    capacity: Mapped[int] = mapped_column(default=4)
    location: Mapped[str] = mapped_column(sa.String(60), default="")
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Categories this room is the dedicated room for: routing prefers it for them when waits are equal.
    primary_categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_open: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    # [{"mediator_id": ..., "mode": "resident" | "rotating" | "on_call"}]
    staff: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    # [{"name": "县人社局", "mode": ...}]: departments stationed here
    departments: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)


class DepartmentRow(Base):
    """A department the center can summon (reference data kept by the county, copied down to the halls)."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class MediatorRow(Base):
    """A mediator or stationed staff member (reference data)."""

    __tablename__ = "mediators"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    hall_code: Mapped[str] = mapped_column(sa.ForeignKey("halls.code"))
    name: Mapped[str] = mapped_column(sa.String(50))
    grade: Mapped[str] = mapped_column(sa.String(20), default="")
    specialties: Mapped[list[str]] = mapped_column(JSONType, default=list)
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    active: Mapped[bool] = mapped_column(default=True)


class TicketRow(Base):
    """Projection: a queue ticket. `queue_key` orders the room's queue (arrival, less the priority head start);
    calling and claiming are conditional UPDATEs on `state`, so of two terminals exactly one wins."""

    __tablename__ = "tickets"
    __table_args__ = (
        sa.UniqueConstraint("hall_code", "day", "label"),
        sa.Index("ix_tickets_queue", "hall_code", "room_code", "state", "queue_key", "number"),
        # the hall-wide queue order, for a free room taking over the longest-waiting visitor
        sa.Index("ix_tickets_hall_queue", "hall_code", "state", "queue_key", "number"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    hall_code: Mapped[str] = mapped_column(sa.String(12))
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    room_code: Mapped[str] = mapped_column(sa.String(12))
    day: Mapped[dt.date]
    number: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(8))
    priority_reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    arrival_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    queue_key: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(sa.String(12))
    recalls: Mapped[int] = mapped_column(default=0)
    called_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    called_by: Mapped[str | None] = mapped_column(sa.String(120))
    terminal: Mapped[str | None] = mapped_column(sa.String(40))
    served_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CaseEvent(Base):
    """An immutable change to a case. `id` is for uniqueness, never order (hall clocks drift);
    `hall_seq` is gap-free per hall; `seq` is the county's arrival order (empty in a hall)."""

    __tablename__ = "case_events"
    __table_args__ = (
        sa.UniqueConstraint("hall_code", "hall_seq"),
        sa.Index("ix_case_events_case_id_hlc", "case_id", "hlc"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    hall_code: Mapped[str] = mapped_column(sa.String(12))
    hall_seq: Mapped[int] = mapped_column(sa.BigInteger)
    case_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(120))
    schema_version: Mapped[int] = mapped_column(default=1)
    seq: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    # hybrid logical clock stamp (desk/core/hlc.py): the order within a case, whatever the PCs' clocks say
    hlc: Mapped[int] = mapped_column(sa.BigInteger)


class CaseRow(Base):
    """Projection: a case's current state, folded from its events."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_no: Mapped[str] = mapped_column(sa.String(30), unique=True)
    hall_code: Mapped[str] = mapped_column(sa.String(12))
    category_code: Mapped[str] = mapped_column(sa.String(40), index=True)
    channel: Mapped[str] = mapped_column(sa.String(30))
    headcount: Mapped[int]
    narrative: Mapped[str] = mapped_column(sa.Text)
    risk_flags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    state: Mapped[str] = mapped_column(sa.String(20), index=True)
    repeat_visits: Mapped[int] = mapped_column(default=0)
    status_token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(120))
    room_code: Mapped[str | None] = mapped_column(sa.String(12))
    risk_level: Mapped[str | None] = mapped_column(sa.String(10))  # general | major | serious
    # the rule the time limit comes from ("legacy": the registration's own deadline, from before the rules)
    deadline_rule: Mapped[str] = mapped_column(sa.String(40), server_default="legacy")
    due_on: Mapped[dt.date | None] = mapped_column(index=True)  # `deadline_at` is the end of this day
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(sa.String(20))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    follow_up_due_on: Mapped[dt.date | None] = mapped_column(index=True)
    # reports read these, never the sealed fields: the applicant's township or grid (desk.core.grids)
    grid_code: Mapped[str | None] = mapped_column(sa.String(20))
    claimed_by: Mapped[str | None] = mapped_column(sa.String(32))  # the login of who claimed it


class PartyRow(Base):
    """Projection: a party to a case. Search keys (ID, phone, name, pinyin initials) are indexed."""

    __tablename__ = "parties"
    __table_args__ = (
        # text_pattern_ops: PostgreSQL's LIKE 'prefix%' uses the index whatever the database collation.
        # The case id (UUIDv7, time-ordered) rides along so "newest first" comes from the index.
        # (their PostgreSQL operator classes: POSTGRESQL_INDEX_OPS below)
        sa.Index("ix_parties_name_case_id", "name", "case_id"),
        sa.Index("ix_parties_name_initials_case_id", "name_initials", "case_id"),
        # blind indexes (keyed hashes, desk.security.vault): exact lookups by ID number or phone, newest first
        sa.Index("ix_parties_id_index_case_id", "id_index", "case_id"),
        sa.Index("ix_parties_phone_index_case_id", "phone_index", "case_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    role: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(100))
    name_initials: Mapped[str] = mapped_column(sa.String(100))
    is_organisation: Mapped[bool] = mapped_column(default=False)
    # sealed (``enc1:...``, desk.security.vault); found through the blind indexes below
    id_number: Mapped[str | None] = mapped_column(sa.Text)
    phone: Mapped[str | None] = mapped_column(sa.Text)
    address: Mapped[str] = mapped_column(sa.Text, default="")
    birth_date: Mapped[dt.date | None]  # no longer written (it identifies); the age band is
    sex: Mapped[str | None] = mapped_column(sa.String(2))
    id_index: Mapped[str | None] = mapped_column(sa.String(32))
    phone_index: Mapped[str | None] = mapped_column(sa.String(32))
    age_band: Mapped[str | None] = mapped_column(sa.String(10))
    grid_code: Mapped[str | None] = mapped_column(sa.String(20))


class WhistleRow(Base):
    """Projection: one department summoned by a whistle (吹哨), with its three clocks and how it answered."""

    __tablename__ = "whistles"
    __table_args__ = (sa.Index("ix_whistles_department_blown_at", "department", "blown_at"),)

    id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)  # whistle_id:department
    whistle_id: Mapped[str] = mapped_column(ID)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    hall_code: Mapped[str] = mapped_column(sa.String(12))
    department: Mapped[str] = mapped_column(sa.String(40))
    matter: Mapped[str] = mapped_column(sa.Text)
    complex: Mapped[bool]
    blown_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sign_by: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    arrive_by: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    report_by: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    signed_by: Mapped[str | None] = mapped_column(sa.String(60))
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    arrived_by: Mapped[str | None] = mapped_column(sa.String(60))
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(sa.Text)
    rating: Mapped[str | None] = mapped_column(sa.String(20))


class WarningRow(Base):
    """Projection: a warning (预警) about a case, and who acknowledged it when."""

    __tablename__ = "warnings"
    __table_args__ = (
        # the open warnings (acknowledged_at IS NULL), gravest first
        sa.Index("ix_warnings_acknowledged_at_level", "acknowledged_at", "level"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    hall_code: Mapped[str] = mapped_column(sa.String(12))
    kind: Mapped[str] = mapped_column(sa.String(20))  # risk | deadline | whistle | crisis
    level: Mapped[str] = mapped_column(sa.String(10))  # general | major | serious
    message: Mapped[str] = mapped_column(sa.String(500))
    ref: Mapped[str] = mapped_column(sa.String(80), default="")
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(120))


class BookingRow(Base):
    """Projection: an appointment (预约) on a day, at a time, in a room of the hall that booked it."""

    __tablename__ = "bookings"
    __table_args__ = (sa.Index("ix_bookings_day_room", "day", "room", "hall_code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    hall_code: Mapped[str] = mapped_column(sa.String(12))
    day: Mapped[dt.date]
    time: Mapped[str] = mapped_column(sa.String(5))  # HH:MM
    room: Mapped[str] = mapped_column(sa.String(12))
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    booked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# --- sync ----------------------------------------------------------------------------------------------


class SyncMeta(Base):
    """Facts about this store: `role` ("hall" or "county"), the county's `reference_version`."""

    __tablename__ = "sync_meta"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(200))


class SyncState(Base):
    """A hall's view of one peer (the county): what was pushed and pulled, and how the last attempt went."""

    __tablename__ = "sync_state"

    peer: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    pushed_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # our hall_seq the county acknowledged
    pulled_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # the county outbox seq we hold up to
    reference_version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")


class CaseHolder(Base):
    """County side: which halls hold a case (where it was registered, where it was diverted to)."""

    __tablename__ = "case_holders"

    case_id: Mapped[str] = mapped_column(ID, primary_key=True)
    hall_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)


class OutboxRow(Base):
    """County side: an event a hall must pull. `seq` is assigned under the county's sequence lock, so it becomes
    visible in order and a pull cursor on it never skips a row."""

    __tablename__ = "county_outbox"
    __table_args__ = (sa.Index("ix_county_outbox_hall_code_seq", "hall_code", "seq"),)

    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    hall_code: Mapped[str] = mapped_column(sa.String(12))
    event_id: Mapped[str] = mapped_column(ID)


class SyncAlert(Base):
    """County side: a refused batch (a gap, a reused number, a schema mismatch) for the supervisor to see."""

    __tablename__ = "sync_alerts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    hall_code: Mapped[str] = mapped_column(sa.String(12), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    detail: Mapped[str] = mapped_column(sa.String(500))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# PostgreSQL-only options of indexes. Written into the Index (`postgresql_ops=...`) they would make SQLAlchemy
# load the PostgreSQL dialect to check them, in every process that imports the models -- a `desk` command on a
# SQLite store too. `desk.store.session.create_engine` attaches them when it makes a PostgreSQL engine (the
# migrations name them themselves).
class UserRow(Base):
    """A sign-in account: roles, the rooms a mediator serves, Argon2id hashes of the password and PIN, lockout."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    login: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    roles: Mapped[list[str]] = mapped_column(JSONType)
    rooms: Mapped[list[str]] = mapped_column(JSONType)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    pin_hash: Mapped[str | None] = mapped_column(sa.String(200))
    failed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """Append-only: one look at a full record, change, print, reprint or export -- who, when, which case, where.
    Numbered per hall (`hall_seq`) so that it syncs to the county like the events."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.UniqueConstraint("hall_code", "hall_seq"),
        sa.Index("ix_audit_log_at", "at"),
        sa.Index("ix_audit_log_login_at", "login", "at"),
        sa.Index("ix_audit_log_case_no_at", "case_no", "at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    hall_code: Mapped[str] = mapped_column(sa.String(12))
    hall_seq: Mapped[int] = mapped_column(sa.BigInteger)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    login: Mapped[str] = mapped_column(sa.String(32))
    user_name: Mapped[str] = mapped_column(sa.String(40))
    terminal: Mapped[str] = mapped_column(sa.String(60))
    action: Mapped[str] = mapped_column(sa.String(30))
    case_id: Mapped[str | None] = mapped_column(ID)
    case_no: Mapped[str | None] = mapped_column(sa.String(30))
    detail: Mapped[str] = mapped_column(sa.String(200))


POSTGRESQL_INDEX_OPS: dict[str, dict[str, str]] = {
    "ix_parties_name_case_id": {"name": "text_pattern_ops"},
    "ix_parties_name_initials_case_id": {"name_initials": "text_pattern_ops"},
}


def attach_postgresql_options() -> None:
    """Put `POSTGRESQL_INDEX_OPS` on the indexes (idempotent); the PostgreSQL dialect is loaded by then."""
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            ops = POSTGRESQL_INDEX_OPS.get(str(index.name))
            if ops is not None:
                index.dialect_kwargs["postgresql_ops"] = ops
