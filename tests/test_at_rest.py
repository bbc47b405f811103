"""Issue 13, done when: personal data is unreadable at rest.

A visitor is registered (and a session recorded whose statement repeats the narrative); then the raw SQLite file
and its WAL (before any checkpoint), a `desk backup` copy, and a `pg_dump` of the county after a sync push are
searched, byte for byte, for the ID number, the phone, the address and a phrase of the narrative: none is found.
The name is found in each -- names stay plaintext (the stated decision), and it proves the search would see the
others if they were there."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from desk.core.clock import FixedClock
from desk.core.events import Attendee, Statement
from desk.core.grids import grid_of
from desk.services.handling import CaseHandlingService
from desk.services.queue import QueueService
from desk.services.registration import RegistrationService
from desk.services.setup import init_hall
from desk.store.backup import backup_store
from desk.store.models import CaseRow, PartyRow
from desk.store.session import Store, open_store
from desk.sync.engine import Syncer
from tests.conftest import NOW, staff, valid_id, visit

NAME = "欧阳秀英"
ID_NUMBER = valid_id("62070219580312004")
PHONE = "13987650001"
ADDRESS = "甘州区梁家墩镇五号村三社17号"
PHRASE = "邻居王某在院墙外堆放秸秆占用通道"
NARRATIVE = f"{PHRASE}，多次沟通未果，请求调解。"
SECRETS = {"ID number": ID_NUMBER, "phone": PHONE, "address": ADDRESS, "narrative phrase": PHRASE}


def forms(text: str) -> list[bytes]:
    """The ways `text` can sit in a file: UTF-8, and as JSON escapes it (`\\u90bb...`) in an event payload."""
    escaped = json.dumps(text)[1:-1].encode("ascii")
    return [text.encode("utf-8"), escaped] if escaped != text.encode("utf-8") else [escaped]


def found(data: bytes) -> dict[str, bool]:
    return {what: any(f in data for f in forms(text)) for what, text in SECRETS.items()}


def assert_nothing_personal(data: bytes, where: str) -> None:
    assert any(f in data for f in forms(NAME)), f"the name should be in {where}: the search saw nothing"
    leaks = [what for what, hit in found(data).items() if hit]
    assert not leaks, f"plaintext {', '.join(leaks)} in {where}"


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'hall' / 'desk.db'}")
    init_hall(store)
    yield store
    store.dispose()


def register_and_handle(store: Store, clock: FixedClock) -> str:
    """The visitor registered, given a ticket, claimed, and a session recorded that repeats the narrative."""
    data = visit(
        narrative=NARRATIVE,
        parties=[
            {"role": "applicant", "name": NAME, "id_number": ID_NUMBER, "phone": PHONE, "address": ADDRESS},
            {"role": "respondent", "name": "王某", "phone": "13900000002"},
        ],
    )
    case_no = (
        RegistrationService(store, clock, principal=staff("前台甲")).register(data, new_case=True).case_no
    )
    desk = QueueService(store, clock, principal=staff("调解员乙", "R01-终端1"))
    desk.claim(desk.issue_ticket(case_no).ticket.id)
    clock.advance(minutes=20)
    CaseHandlingService(store, clock, principal=staff("调解员乙", "R01-终端1")).record_session(
        case_no,
        attendees=[Attendee(NAME, "party"), Attendee("王某", "party"), Attendee("调解员乙", "mediator")],
        statements=[Statement(NAME, f"{PHRASE}，已有半年。"), Statement("王某", "愿意清理")],
        agreed=f"王某清理秸秆（{PHRASE}一事）",
    )
    return case_no


def test_the_hall_store_its_wal_and_a_backup_hold_no_personal_data_in_clear(
    hall: Store, clock: FixedClock, tmp_path: Path
) -> None:
    case_no = register_and_handle(hall, clock)
    db = Path(str(hall.engine.url.database))
    wal = db.with_name(db.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0, "the test must see the WAL before a checkpoint"
    # read while the store is open: nothing checkpointed, the newest pages only in the WAL
    assert_nothing_personal(db.read_bytes() + wal.read_bytes(), "the SQLite file and its WAL")
    assert_nothing_personal(wal.read_bytes(), "the WAL")

    out = tmp_path / "backup" / "desk-备份.db"
    out.parent.mkdir()
    backup_store(db, out)  # what `desk backup --out` runs
    assert_nothing_personal(out.read_bytes(), "the backup")

    # ... and yet the services find and show it: by blind index, opened for the full record, masked by default
    reg = RegistrationService(hall, clock, principal=staff())
    assert [c.case_no for c in reg.search(ID_NUMBER)] == [case_no]
    assert [c.case_no for c in reg.search("139 8765 0001")] == [case_no]
    assert [c.case_no for c in reg.person_cases(id_number=ID_NUMBER.lower())] == [case_no]
    masked = reg.case(case_no)
    assert masked.narrative == NARRATIVE
    applicant = masked.parties[0]
    assert applicant.id_number == ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]
    assert applicant.phone == "139****0001" and applicant.address == "甘州区梁家墩镇****"
    full = reg.case(case_no, reveal=True).parties[0]
    assert (full.id_number, full.phone, full.address) == (ID_NUMBER, PHONE, ADDRESS)
    assert full.birth_date is not None and full.birth_date.isoformat() == "1958-03-12"
    file = CaseHandlingService(hall, clock, principal=staff()).view(case_no)
    assert file.sessions[0].statements[0].text.startswith(PHRASE) and PHRASE in file.sessions[0].agreed
    # the derived fields reports read, in clear
    with hall.read() as s:
        p = s.scalars(sa.select(PartyRow).where(PartyRow.name == NAME)).one()
        c = s.scalars(sa.select(CaseRow).where(CaseRow.case_no == case_no)).one()
        assert (p.sex, p.age_band, p.grid_code, p.birth_date) == ("女", "60-69", grid_of(ADDRESS), None)
        assert c.grid_code == p.grid_code is not None


@pytest.mark.postgres
def test_a_dump_of_the_county_after_a_push_holds_no_personal_data_in_clear(
    hall: Store, clock: FixedClock, county_url: str, tmp_path: Path
) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    register_and_handle(hall, clock)
    syncer = Syncer(hall, county_url, clock=FixedClock(NOW))
    try:
        syncer.run_once()
    finally:
        syncer.close()
    county = open_store(county_url)
    try:
        with county.read() as s:  # the push arrived and was folded at the county
            assert (
                s.scalar(sa.select(sa.func.count()).select_from(PartyRow).where(PartyRow.name == NAME)) == 1
            )
    finally:
        county.dispose()
    url = make_url(county_url).set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run([pg_dump, "--no-owner", "--dbname", url], capture_output=True, check=True).stdout
    assert b"case_events" in dump and b"parties" in dump
    assert_nothing_personal(dump, "the county's pg_dump")
