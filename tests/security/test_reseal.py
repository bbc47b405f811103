"""Sealing a store again: plaintext from before encryption sealed, older keys' text resealed, blind indexes
filled; idempotent and resumable; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from desk.core.parties import normalise_id_number, normalise_phone
from desk.security.vault import KeySet, Vault, is_sealed, key_id_of
from desk.services.registration import RegistrationService
from desk.store.reseal import ResealReport, needs_reseal, reseal, reseal_payload
from desk.store.session import Store
from tests.conftest import valid_id, visit

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
    return Vault(KeySet.generate())


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
