"""The store on SQLite and PostgreSQL: migrations, durability settings, the event log and its projections."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store import projections
from desk.store import repositories as repo
from desk.store.models import CaseEvent, CaseRow, Hall, PartyRow, RoomRow
from desk.store.session import HEAD_REVISION, Store, current_revision, open_store
from tests.conftest import staff, valid_id, visit


def test_migrations_reach_head_and_are_idempotent(store_url: str) -> None:
    s = open_store(store_url)
    assert current_revision(s.engine) == HEAD_REVISION
    s.dispose()
    again = open_store(store_url)  # a second start finds the schema current
    assert current_revision(again.engine) == HEAD_REVISION
    tables = set(sa.inspect(again.engine).get_table_names())
    assert {"case_events", "cases", "parties", "halls", "rooms", "categories", "counters"} <= tables
    again.dispose()


def test_sqlite_is_durable_wal_with_foreign_keys(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_init_seeds_hall_rooms_and_categories_once(store: Store) -> None:
    with store.unit_of_work() as s:
        hall = repo.local_hall(s)
        assert hall is not None and hall.code == "620702001"
        rooms = s.scalars(sa.select(RoomRow).order_by(RoomRow.position)).all()
        assert [r.name for r in rooms][:3] == ["人民调解室", "法律援助/律师调解室", "心理咨询室"]
        assert len({r.prefix for r in rooms}) == len(rooms)
        assert len(repo.load_categories(s)) == 17
    report = init_hall(store)  # idempotent
    assert report.rooms == 9 and not report.created_hall


def test_init_refuses_changing_hall_code(store: Store) -> None:
    from desk.errors import DeskError

    with pytest.raises(DeskError, match="已属于综治中心 620702001"):
        init_hall(store, hall_code="620721001")


def test_register_writes_event_and_projection_in_one_transaction(
    service: RegistrationService, store: Store
) -> None:
    r = service.register(visit())
    assert r.case_no == "620702001-2026-000001" and not r.is_repeat
    with store.unit_of_work() as s:
        ev, deadline = s.scalars(sa.select(CaseEvent).order_by(CaseEvent.hall_seq)).all()
        assert deadline.kind == "deadline_set"  # the time limit by its rule, in the same transaction
        assert (ev.kind, ev.hall_code, ev.hall_seq, ev.case_id) == ("registered", "620702001", 1, r.case_id)
        assert ev.id[14] == "7"  # UUIDv7
        case = s.get(CaseRow, r.case_id)
        assert case is not None and case.state == "registered" and len(case.status_token) >= 22
        # people's mediation: one month from 2026-11-27, a Sunday, so Monday (Civil Code art. 203)
        assert case.deadline_rule == "people_mediation" and case.due_on == dt.date(2026, 12, 28)
        assert case.deadline_at == dt.datetime(2026, 12, 28, 15, 59, 59, tzinfo=dt.UTC)
        party = s.scalars(sa.select(PartyRow)).one()
        # the birth date is no longer kept: its age band on the registration day is (with the sex)
        assert party.name_initials == "zs" and party.birth_date is None and party.sex == "男"
        assert party.age_band == "40-49" and party.id_index and (party.id_number or "").startswith("enc1:")


def test_case_numbers_and_hall_seq_are_gap_free(service: RegistrationService, store: Store) -> None:
    for i in range(5):
        service.register(visit(parties=[{"role": "applicant", "name": "王五", "phone": f"1391234{i:04d}"}]))
    with pytest.raises(Exception):  # noqa: B017 - any refusal; it must not consume a number
        service.register(visit(narrative=""))
    service.register(visit(parties=[{"role": "applicant", "name": "赵六", "phone": "13700000000"}]))
    with store.unit_of_work() as s:
        nos = sorted(s.scalars(sa.select(CaseRow.case_no)))
        seqs = sorted(s.scalars(sa.select(CaseEvent.hall_seq)))
        hall = s.get(Hall, "620702001")
        assert hall is not None and hall.last_seq == 12  # each case: Registered and DeadlineSet
    assert nos == [f"620702001-2026-{i:06d}" for i in range(1, 7)]
    assert seqs == list(range(1, 13))


def test_case_number_restarts_each_year(store: Store) -> None:
    clock = FixedClock(dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.UTC))  # 23:59 China time
    svc = RegistrationService(store, clock, principal=staff())
    assert svc.register(visit()).case_no.startswith("620702001-2026-")
    clock.advance(minutes=2)  # 00:01 on 1 January, China time
    other = visit(parties=[{"role": "applicant", "name": "李四", "phone": "13800000000"}])
    assert svc.register(other).case_no == "620702001-2027-000001"


def test_text_is_stored_exactly(service: RegistrationService, store: Store) -> None:
    narrative = "对方说：“'); DROP TABLE cases; --” 😡\n第二行 𠮷"
    parties = [
        {
            "role": "applicant",
            "name": "𠮷祥",
            "id_number": valid_id("62072119900101002"),
            "phone": "13912345678",
        },
        {"role": "respondent", "name": "阿依古丽•买买提"},
    ]
    r = service.register(visit(narrative=narrative, parties=parties))
    detail = service.case(r.case_no)
    assert detail.narrative == narrative
    assert [p.name for p in detail.parties] == ["𠮷祥", "阿依古丽·买买提"]
    with store.unit_of_work() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(CaseRow)) == 1


def test_projection_rebuilt_from_the_log_equals_the_stored_one(
    service: RegistrationService, store: Store, clock: FixedClock
) -> None:
    import random

    from desk.core.synthetic import make_visit

    rng = random.Random(7)
    names = {c.code: c.name for c in service.categories()}
    for _ in range(30):
        clock.advance(minutes=rng.randint(0, 20))
        service.register(make_visit(rng, categories=names))
    first = service.search("620702001-2026-000001")[0]
    detail = service.case(first.case_no, reveal=True)
    service.register(
        visit(
            category=names[detail.category_code],
            parties=[
                dict(
                    role="applicant",
                    name=detail.parties[0].name,
                    id_number=detail.parties[0].id_number,
                    phone=detail.parties[0].phone,
                )
            ],
        )
    )
    with store.unit_of_work() as s:
        live = repo.projection_snapshot(s)
        # 30 × (registration and deadline) + the repeat, and risk assessed (with a warning) where there is risk
        logged = int(s.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) or 0)
        risk = s.scalar(
            sa.select(sa.func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.kind.like("risk%") | CaseEvent.kind.like("warning%"))
        )
        assert logged == 61 + risk
    with store.unit_of_work() as s:
        assert projections.rebuild(s) == logged
    with store.unit_of_work() as s:
        rebuilt = repo.projection_snapshot(s)
    assert rebuilt == live
    assert service.case(first.case_no).repeat_visits == 1


def test_downgrade_to_the_first_revision_and_upgrade_again_keeps_data(store_url: str) -> None:
    from desk.store.session import create_engine, run_alembic

    first = open_store(store_url)
    init_hall(first)
    RegistrationService(
        first, FixedClock(dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC)), principal=staff()
    ).register(visit())
    first.dispose()
    engine = create_engine(store_url)
    run_alembic(engine, "downgrade", "20261127_0001")
    assert current_revision(engine) == "20261127_0001"
    engine.dispose()

    upgraded = open_store(store_url)
    assert current_revision(upgraded.engine) == HEAD_REVISION
    indexes = {ix["name"] for ix in sa.inspect(upgraded.engine).get_indexes("parties")}
    assert {"ix_parties_name_case_id", "ix_parties_name_initials_case_id"} <= indexes
    assert "ix_parties_name" not in indexes
    svc = RegistrationService(
        upgraded, FixedClock(dt.datetime(2026, 11, 27, 3, tzinfo=dt.UTC)), principal=staff()
    )
    assert [c.case_no for c in svc.search("张三")] == ["620702001-2026-000001"]
    with upgraded.read() as s:
        assert all(r.staff == [] for r in s.scalars(sa.select(RoomRow)))
    upgraded.dispose()
