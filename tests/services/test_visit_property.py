"""Property: whatever bytes or JSON reach `desk register`, the parser and the registration service either accept
the visit or raise the one ValidationError, and a refusal writes nothing.

Three sources of input: arbitrary bytes; arbitrary JSON values, serialised in several ways; and valid visits
with a few fields replaced by arbitrary JSON values and names salted with arbitrary characters (so that many
examples get past the file checks into the field checks, and some are accepted). JSON values are also handed
to the service as Python objects, as the form does.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from desk.core import text
from desk.core.visit_json import load_visit
from desk.errors import ValidationError
from desk.services.registration import RegistrationService
from desk.store.models import CaseEvent, CaseRow, PartyRow
from desk.store.session import Store
from tests.conftest import valid_id

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TRICKY = '\u0000\u0007\u001b\u200b\u200d\u202e\u2066\u3164\u115f\u034f\ufe0f\U000e0100\U000e0041\u00ad\ufeff\u0301\u0302\u0303𠮷·.\n\r\t"\\'
CHARS = st.one_of(st.characters(exclude_categories=()), st.sampled_from(TRICKY))
TEXT = st.text(CHARS, max_size=12)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**17, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.sampled_from(
        ["false", "true", "1", "６", "邻里纠纷", "walk_in", "applicant", "被申请人", "psychological_crisis"]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
VALID_ID = valid_id("62070219850101123")


FIELDS = ["category", "channel", "headcount", "narrative", "risk_flags", "parties", "extra"]
PARTY_FIELDS = ["role", "name", "is_organisation", "id_number", "phone", "address", "extra"]
DELETE = object()


@st.composite
def visits(draw: st.DrawFn) -> dict[str, Any]:
    """A valid visit with up to three of its fields (or its applicant's fields) replaced by arbitrary JSON or
    deleted, and its applicant's name and narrative salted with arbitrary characters."""
    a, b = draw(TEXT), draw(TEXT)
    party: dict[str, Any] = {
        "role": "applicant",
        "name": f"张{a}三{b}",
        "id_number": VALID_ID,
        "phone": "13912345678",
    }
    data: dict[str, Any] = {
        "category": "邻里纠纷",
        "channel": "walk_in",
        "headcount": 1,
        "narrative": f"邻居{draw(TEXT)}堵了通道",
        "risk_flags": ["psychological_crisis"],
        "parties": [party, {"role": "respondent", "name": "李四"}],
    }
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from([data, party]))
        key = draw(st.sampled_from(FIELDS if target is data else PARTY_FIELDS))
        value = draw(st.one_of(st.just(DELETE), JSON))
        if value is DELETE:
            target.pop(key, None)
        else:
            target[key] = value
    return data


@pytest.fixture
def hypothesis_home(tmp_path: Path) -> Iterator[None]:
    set_hypothesis_home_dir(tmp_path / "hypothesis")  # its caches go to the test's directory, not the project
    yield
    set_hypothesis_home_dir(None)


def counts(store: Store) -> tuple[int, ...]:
    with store.read() as s:
        return tuple(
            s.scalar(sa.select(sa.func.count()).select_from(m)) or 0 for m in (CaseEvent, CaseRow, PartyRow)
        )


def is_clean(value: str) -> bool:
    """Nothing in it that a message or a stored name must not hold raw."""
    return not any(
        unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")
        or ch in text.BIDI_CONTROLS
        or ch in text.INVISIBLE
        for ch in value
    )


def attempt(service: RegistrationService, store: Store, data: object) -> bool:
    """Register `data` (bytes go through the file parser first); True if it was accepted."""
    before = counts(store)
    try:
        if isinstance(data, bytes):
            data = load_visit(data, source="visit.json").data
        result = service.register(data, new_case=True)  # type: ignore[arg-type]
    except ValidationError as e:
        assert e.problems, "a refusal names at least one field"
        for p in e.problems:
            assert is_clean(p.field) and is_clean(p.message), p
        assert counts(store) == before, "a refusal wrote something"
        return False
    # accepted: what was stored is what the screen shows
    after = counts(store)
    # one case; its registration and deadline, and the risk events (flags found, the level, a warning) when it
    # has risk
    assert after[1] == before[1] + 1 and before[0] + 2 <= after[0] <= before[0] + 5
    for party in service.case(result.case_no).parties:
        assert is_clean(party.name) and party.name == unicodedata.normalize("NFC", party.name)
    return True


def dumps(value: object, ensure_ascii: bool, indent: int | None) -> bytes:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent).encode("utf-8", "surrogatepass")


def test_arbitrary_bytes(
    hypothesis_home: None, sqlite_service: RegistrationService, sqlite_store: Store
) -> None:
    @SETTINGS
    @given(raw=st.binary(max_size=300))
    def run(raw: bytes) -> None:
        attempt(sqlite_service, sqlite_store, raw)

    run()


def test_arbitrary_json(
    hypothesis_home: None, sqlite_service: RegistrationService, sqlite_store: Store
) -> None:
    @SETTINGS
    @given(value=JSON, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 2]), bom=st.booleans())
    def run(value: object, ensure_ascii: bool, indent: int | None, bom: bool) -> None:
        raw = dumps(value, ensure_ascii, indent)
        attempt(sqlite_service, sqlite_store, b"\xef\xbb\xbf" + raw if bom else raw)
        attempt(sqlite_service, sqlite_store, value)  # as a Python object, past the file parser

    run()


def test_visits_with_arbitrary_fields(
    hypothesis_home: None, sqlite_service: RegistrationService, sqlite_store: Store
) -> None:
    outcomes: list[bool] = []

    @SETTINGS
    @given(data=visits(), ensure_ascii=st.booleans())
    def run(data: dict[str, object], ensure_ascii: bool) -> None:
        outcomes.append(attempt(sqlite_service, sqlite_store, dumps(data, ensure_ascii, None)))
        outcomes.append(attempt(sqlite_service, sqlite_store, data))  # as the form hands it over

    run()
    # both sides of the property were exercised, not only refusals
    assert outcomes.count(True) >= 10 and outcomes.count(False) >= 10, (outcomes.count(True), len(outcomes))


def test_the_properties_reach_acceptance(sqlite_service: RegistrationService, sqlite_store: Store) -> None:
    # the strategies can produce a valid visit, so the properties test acceptance as well as refusal
    valid = {
        "category": "邻里纠纷",
        "narrative": "邻居堵了通道",
        "parties": [{"name": "张\u3164三", "phone": "13912345678", "headcount": math.nan}],
    }
    assert attempt(sqlite_service, sqlite_store, valid)
    assert not attempt(sqlite_service, sqlite_store, dumps(valid, True, None))  # NaN refused in the file
