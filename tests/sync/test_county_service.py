"""The county store: init, the halls registry, diversion (上级分流) and what a citizen then sees."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.errors import DeskError, ValidationError
from desk.services.county import CountyService, init_county
from desk.services.registration import RegistrationService
from desk.services.status import StatusService
from desk.store import county as county_store
from desk.store.models import CaseEvent, CaseRow, OutboxRow
from desk.store.session import Store, open_store
from desk.sync.engine import Syncer
from tests.conftest import NOW, staff, visit
from tests.sync.conftest import HALL_B, assert_projections_equal_rebuild

pytestmark = pytest.mark.postgres


def test_init_is_repeatable_and_bumps_the_reference_version(county_url: str) -> None:
    store = open_store(county_url)
    assert county_store.store_role(store) == "county"
    again = init_county(store, code="620702", name="甘州区综治中心")
    assert again.reference_version == 2 and again.departments == 10
    with pytest.raises(DeskError, match="不能改为"):
        init_county(store, code="620703", name="别的县")
    store.dispose()


def test_a_hall_store_cannot_become_the_county(store: Store) -> None:
    with pytest.raises(DeskError):
        init_county(store, code="620702", name="甘州区综治中心")
    with pytest.raises(DeskError, match="不是县级库"):
        CountyService(store, FixedClock(NOW), principal=staff()).divert("X", to_hall=HALL_B)


def test_divert_a_visit_to_a_registered_hall(county: Store, make_hall: object) -> None:
    clock = FixedClock(NOW)
    hall = make_hall(HALL_B)  # type: ignore[operator]
    Syncer(hall, "", county_store=county, clock=clock).run_once()  # the hall registers itself
    svc = CountyService(county, clock, principal=staff("县级调度员"))
    assert [h.code for h in svc.halls()] == [HALL_B]
    with pytest.raises(ValidationError, match="尚未在县级库登记"):
        svc.divert_visit(visit(), to_hall="620702777")
    d = svc.divert_visit(visit(), to_hall=HALL_B, reason="属地管辖")
    assert d.case_no.startswith("620702-2026-") and d.to_hall == HALL_B
    with county.read() as s:
        case = s.scalar(sa.select(CaseRow).where(CaseRow.case_no == d.case_no))
        assert case is not None and (case.state, case.hall_code) == ("diverted", HALL_B)
        kinds = s.scalars(sa.select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
        assert sorted(kinds) == ["deadline_set", "diverted", "registered"]
        # the three events have their county seq and wait in the hall's outbox
        assert s.scalar(sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.seq.is_(None))) == 0
        assert (
            s.scalar(sa.select(sa.func.count()).select_from(OutboxRow).where(OutboxRow.hall_code == HALL_B))
            == 3
        )
        token = case.status_token
    with pytest.raises(ValidationError, match="已分流至"):
        svc.divert(d.case_no, to_hall=HALL_B)
    status = StatusService(county, clock).status(token)
    assert status is not None and "分流" in status.detail
    assert_projections_equal_rebuild(county)


def test_a_case_registered_at_the_county_itself_stays_there_until_diverted(county: Store) -> None:
    clock = FixedClock(NOW)
    r = RegistrationService(county, clock, principal=staff()).register(visit(), new_case=True)
    with county.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(OutboxRow)) == 0
        assert s.scalar(sa.select(CaseEvent.seq).where(CaseEvent.kind == "registered")) is not None
    assert r.case_no.startswith("620702-")


def test_the_halls_rooms_go_up_so_the_county_status_page_names_the_room(
    county: Store, make_hall: object
) -> None:
    from desk.services.queue import QueueService
    from desk.services.rooms import RoomsService
    from desk.store.models import RoomRow

    clock = FixedClock(NOW)
    hall = make_hall(HALL_B)  # type: ignore[operator]
    case_no = RegistrationService(hall, clock, principal=staff()).register(visit(), new_case=True).case_no
    issued = QueueService(hall, clock, principal=staff()).issue_ticket(case_no)
    syncer = Syncer(hall, "", county_store=county, clock=clock)
    syncer.run_once()
    with county.read() as s:
        rooms = {r.code: r for r in s.scalars(sa.select(RoomRow).where(RoomRow.hall_code == HALL_B))}
        token = s.scalar(sa.select(CaseRow.status_token).where(CaseRow.case_no == case_no))
    assert issued.room.code in rooms and len(rooms) == 9
    status = StatusService(county, clock).status(str(token))
    assert status is not None and status.room is not None and rooms[issued.room.code].name in status.room
    assert status.location == rooms[issued.room.code].location
    # a room closed at the hall is closed at the county after the next round; an idle round rewrites nothing
    RoomsService(hall, clock, principal=staff()).set_room_open(issued.room.code, False)
    syncer.run_once()
    with county.read() as s:
        assert (
            s.scalar(
                sa.select(RoomRow.is_open).where(
                    RoomRow.hall_code == HALL_B, RoomRow.code == issued.room.code
                )
            )
            is False
        )
        ids = set(s.scalars(sa.select(RoomRow.id).where(RoomRow.hall_code == HALL_B)))
    syncer.run_once()
    with county.read() as s:
        assert set(s.scalars(sa.select(RoomRow.id).where(RoomRow.hall_code == HALL_B))) == ids
