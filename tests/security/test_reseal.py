"""Sealing a store again: plaintext from before encryption sealed, older keys' text resealed, blind indexes
filled; idempotent and resumable; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from desk.core.parties import normalise_id_number, normalise_phone
from desk.security.vault import Vault, is_sealed, key_id_of
from desk.services.registration import RegistrationService
from desk.store.reseal import ResealReport, needs_reseal, reseal, reseal_payload
from desk.store.session import Store
from tests.conftest import valid_id, visit
from tests.security.conftest import LEGACY_KEYS

ID_A = valid_id("62070219850101123")
ID_B = valid_id("62070219900202234")
PHONE_B = "13800001111"
NARRATIVE_B = "承包地边界争议，双方各执一词。"
ADDRESS_B = "甘州区西街街道8号"


def _register(service: RegistrationService) -> None:
    """Three visits as the registration service writes them today: two cases, one repeat visit."""
    service.register(visit())
    service.register(visit())  # the same applicant, same category, open case: a repeat visit
    service.register(
        visit(
            category="山林土地纠纷",
            narrative=NARRATIVE_B,
            parties=[
                {
                    "role": "applicant",
                    "name": "李四",
                    "id_number": ID_B,
                    "phone": PHONE_B,
                    "address": ADDRESS_B,
                }
            ],
        )
    )


def _everything(store: Store) -> str:
    """The personal columns of the store as text, as a dump would show them."""
    with store.read() as s:
        rows: list[Any] = []
        for sql in (
            "SELECT kind, CAST(payload AS TEXT) FROM case_events",
            "SELECT id_number, phone, address, id_index, phone_index FROM parties",
            "SELECT narrative FROM cases",
        ):
            rows += s.execute(sa.text(sql)).all()
    return "\n".join(str(tuple(r)) for r in rows)


PLAIN = (ID_A, "13912345678", "甘州区东街街道1号", "院墙外堆放杂物", ID_B, PHONE_B, ADDRESS_B, "承包地边界")


@pytest.fixture
def vault() -> Vault:
    return Vault(LEGACY_KEYS)


def _events(store: Store) -> list[Any]:
    with store.read() as s:
        return [
            (kind, payload)
            for kind, payload in s.execute(
                sa.text("SELECT kind, payload FROM case_events WHERE kind IN ('registered', 'repeat_visit')")
            )
        ]


def _json(payload: Any) -> dict[str, Any]:
    import json

    return payload if isinstance(payload, dict) else json.loads(payload)


def test_reseal_seals_plaintext_and_fills_indexes(
    store: Store, service: RegistrationService, vault: Vault
) -> None:
    _register(service)
    assert any(p in _everything(store) for p in PLAIN)
    assert needs_reseal(store, vault)
    seen: list[tuple[str, int]] = []
    report = reseal(store, vault, progress=lambda stage, n: seen.append((stage, n)))
    assert report == ResealReport(events=3, parties=2, cases=2)
    assert {stage for stage, _ in seen} == {"events", "parties", "cases"}
    dump = _everything(store)
    for p in PLAIN:
        assert p not in dump
    assert not needs_reseal(store, vault)

    kinds = sorted(kind for kind, _ in _events(store))
    assert kinds == ["registered", "registered", "repeat_visit"]
    for kind, raw in _events(store):
        payload = _json(raw)
        v = payload["visit"] if kind == "repeat_visit" else payload
        assert key_id_of(v["narrative"]) == "k1"
        for party in v["parties"]:
            plain_id = vault.open(party["id_number"], field="id_number")
            assert plain_id in (ID_A, ID_B)
            assert plain_id
            assert party["id_index"] == vault.index("id", normalise_id_number(plain_id))
            plain_phone = vault.open(party["phone"], field="phone")
            assert plain_phone
            assert party["phone_index"] == vault.index("phone", normalise_phone(plain_phone))
            assert vault.open(party["address"], field="address") in ("甘州区东街街道1号", ADDRESS_B)
    with store.read() as s:
        rows: Any = s.execute(sa.text("SELECT id_number, phone, address, id_index, phone_index FROM parties"))
        for id_number, phone, address, id_index, phone_index in rows:
            assert all(is_sealed(x) for x in (id_number, phone, address))
            assert id_index == vault.index("id", vault.open(id_number, field="id_number"))
            assert phone_index == vault.index("phone", vault.open(phone, field="phone"))
        cases: Any = s.execute(sa.text("SELECT narrative FROM cases"))
        narratives = {vault.open(n, field="narrative") for (n,) in cases}
    assert NARRATIVE_B in narratives


def test_reseal_is_idempotent_and_rotates(store: Store, service: RegistrationService, vault: Vault) -> None:
    _register(service)
    reseal(store, vault)
    before = _everything(store)
    assert reseal(store, vault) == ResealReport(0, 0, 0)
    assert _everything(store) == before  # nothing rewritten: same nonces

    rotated = Vault(vault.keys.rotated())
    assert needs_reseal(store, rotated)
    assert reseal(store, rotated).total == 7
    assert not needs_reseal(store, rotated)
    only_new = Vault(rotated.keys.without_old())
    with store.read() as s:
        for n in s.scalars(sa.text("SELECT narrative FROM cases")):
            assert key_id_of(n) == "k2"
            assert only_new.open(n, field="narrative")


def test_a_stopped_reseal_finishes_when_run_again(
    store: Store, service: RegistrationService, vault: Vault
) -> None:
    _register(service)

    def crash(stage: str, seen: int) -> None:
        if stage == "events" and seen == 2:
            raise KeyboardInterrupt  # the power goes after two batches

    with pytest.raises(KeyboardInterrupt):
        reseal(store, vault, progress=crash, batch=1)
    assert needs_reseal(store, vault)
    sealed_events = sum(
        is_sealed(_json(p).get("narrative") or _json(p)["visit"]["narrative"]) for _, p in _events(store)
    )
    assert sealed_events == 2  # the committed batches stay done
    report = reseal(store, vault, batch=1)
    assert report.events == 1 and report.parties == 2 and report.cases == 2
    assert not needs_reseal(store, vault)
    for p in PLAIN:
        assert p not in _everything(store)


def test_needs_reseal_on_an_empty_store(store: Store, vault: Vault) -> None:
    assert not needs_reseal(store, vault)
    assert reseal(store, vault) == ResealReport(0, 0, 0)


def test_payload_of_other_kinds_untouched(vault: Vault) -> None:
    assert reseal_payload(vault, "called", {"narrative": "x"}) is None
    payload = {"narrative": "x", "parties": [{"id_number": None, "phone": "", "address": ""}]}
    new = reseal_payload(vault, "registered", payload)
    assert new is not None and is_sealed(new["narrative"]) and payload["narrative"] == "x"
    assert new["parties"][0] == {"id_number": None, "phone": "", "address": ""}


def test_reseal_seals_old_session_records_and_drops_birth_dates_in_clear(
    store: Store, service: RegistrationService, vault: Vault
) -> None:
    """A store written before encryption kept the session's statements in clear and each party's birth date
    (the middle of the ID number): the reseal seals the one and turns the other into the age band."""
    import datetime as dt

    from desk.core import events as ev
    from desk.store.events import append_event

    case = service.register(visit())
    said = "对方在院墙外堆放杂物，我要求清理"
    with store.unit_of_work() as s:
        append_event(
            s,
            hall_code="620702001",
            case_id=case.case_id,
            body=ev.SessionRecorded(
                "s1",
                dt.datetime(2026, 11, 27, 2, 30, tzinfo=dt.UTC),
                statements=(ev.Statement("张三", said),),
                agreed="一周内清理",
            ),
            occurred_at=dt.datetime(2026, 11, 27, 2, 30, tzinfo=dt.UTC),
            actor="调解员",
        )
        s.execute(sa.text("UPDATE parties SET birth_date = '1985-01-01', age_band = NULL"))

    def session_payload() -> dict[str, Any]:
        with store.read() as s:
            (row,) = s.execute(
                sa.text("SELECT payload FROM case_events WHERE kind = 'session_recorded'")
            ).all()
        return _json(row[0])

    assert session_payload()["statements"][0]["text"] == said
    assert needs_reseal(store, vault)
    reseal(store, vault)
    sealed = session_payload()
    assert is_sealed(sealed["statements"][0]["text"]) and is_sealed(sealed["agreed"])
    with store.read() as s:
        rows = s.execute(sa.text("SELECT birth_date, age_band FROM parties")).all()
        (payload,) = s.execute(
            sa.text("SELECT payload FROM case_events WHERE kind = 'session_recorded'")
        ).all()
    assert rows == [(None, "40-49")]  # 41 on 2026-11-27
    session = _json(payload[0])
    assert vault.open(session["statements"][0]["text"], field="narrative") == said
    assert vault.open(session["agreed"], field="narrative") == "一周内清理"
    assert not needs_reseal(store, vault)


def test_upgrading_a_wave1_store_with_desk_init_seals_it_on_disk(tmp_path: Path) -> None:
    """The store the wave-1 code wrote (plaintext ID numbers, phones, narratives): `desk init` migrates it, makes
    the keys and seals everything; afterwards the file holds none of it in clear, free pages and WAL included."""
    import shutil
    import sqlite3
    from contextlib import closing

    from desk.cli import main

    path = tmp_path / "desk.db"
    shutil.copy(Path(__file__).parents[1] / "fixtures" / "wave1_store.sqlite", path)
    with closing(sqlite3.connect(path)) as db:
        plain = [r[0] for r in db.execute("SELECT id_number FROM parties WHERE id_number IS NOT NULL")]
        plain += [r[0] for r in db.execute("SELECT phone FROM parties WHERE phone IS NOT NULL")]
    assert plain and all(p.encode() in path.read_bytes() for p in plain)
    assert main(["init", "--db", f"sqlite:///{path}"]) == 0
    raw = (
        path.read_bytes() + (tmp_path / "desk.db-wal").read_bytes()
        if (tmp_path / "desk.db-wal").exists()
        else path.read_bytes()
    )
    assert [p for p in plain if p.encode() in raw] == []
    with closing(sqlite3.connect(path)) as db:
        assert db.execute(
            "SELECT count(*) FROM parties WHERE id_index IS NULL AND id_number IS NOT NULL"
        ).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM parties WHERE birth_date IS NOT NULL").fetchone() == (0,)
