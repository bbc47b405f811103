"""Registering visits: new cases, repeat visits, refusals that write nothing, and finding people and cases."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from desk.core.clock import FixedClock
from desk.errors import NotFound, ValidationError
from desk.services.registration import RegistrationService
from desk.store.models import CaseEvent, CaseRow, Counter, Hall, PartyRow
from desk.store.session import Store, open_store
from tests.conftest import NOW, add_tester, staff, valid_id, visit

ZHANG = valid_id("62070219850101123")


def table_counts(store: Store) -> dict[str, object]:
    with store.unit_of_work() as s:
        return {
            m.__tablename__: s.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (CaseEvent, CaseRow, PartyRow)
        } | {
            "last_seq": s.scalar(sa.select(Hall.last_seq)),
            "counters": s.scalars(sa.select(Counter.value)).all(),
        }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"parties": [{"role": "applicant", "name": "张三", "id_number": ZHANG[:-1] + "0"}]},
            "parties[0].id_number",
        ),
        ({"narrative": "粘贴\x07的内容"}, "narrative"),
        ({"narrative": "长" * 2001}, "narrative"),
        (
            {"parties": [{"role": "applicant", "name": "张\u202e三", "phone": "13912345678"}]},
            "parties[0].name",
        ),
        ({"category": "不存在的类别"}, "category"),
        ({"headcount": 0}, "headcount"),
    ],
)
def test_refused_visit_leaves_the_store_unchanged(
    service: RegistrationService, store: Store, overrides: dict[str, object], field: str
) -> None:
    service.register(visit(parties=[{"role": "applicant", "name": "李四", "phone": "13800000000"}]))
    before = table_counts(store)
    with pytest.raises(ValidationError) as e:
        service.register(visit(**overrides))
    assert field in {p.field for p in e.value.problems}
    assert table_counts(store) == before


def test_same_person_same_matter_same_day_is_a_repeat_visit(
    service: RegistrationService, clock: FixedClock
) -> None:
    first = service.register(visit())
    clock.advance(hours=3)
    again = service.register(visit(narrative="上午来过，对方仍未清理杂物。", headcount=6))
    assert again.is_repeat and again.case_no == first.case_no
    detail = service.case(first.case_no)
    assert detail.repeat_visits == 1
    assert {"repeat_visit", "group_visit"} <= set(detail.risk_flags)
    # the deadline; and a group visit that is also a repeat visit is 重大 (desk.core.risk.LEVEL_RULE): assessed,
    # with a warning
    assert [e.kind for e in detail.events] == [
        "registered",
        "deadline_set",
        "repeat_visit",
        "risk_assessed",
        "warning_raised",
    ]
    assert detail.events[2].body.visit.narrative == "上午来过，对方仍未清理杂物。"


def test_repeat_found_by_full_width_id_and_lowercase(service: RegistrationService) -> None:
    first = service.register(visit())
    full = "".join(chr(ord(c) + 0xFEE0) for c in ZHANG)
    again = service.register(visit(parties=[{"role": "applicant", "name": "张三", "id_number": full}]))
    assert again.is_repeat and again.case_no == first.case_no


def test_repeat_found_by_phone_when_no_id(service: RegistrationService) -> None:
    p = {"role": "applicant", "name": "王五", "phone": "139 1111 2222"}
    first = service.register(visit(parties=[p]))
    assert service.register(visit(parties=[dict(p, phone="13911112222")])).case_no == first.case_no


def test_another_category_is_a_new_case(service: RegistrationService) -> None:
    first = service.register(visit())
    other = service.register(visit(category="劳动争议纠纷", narrative="工地欠薪三个月。"))
    assert not other.is_repeat and other.case_no != first.case_no
    assert {c.case_no for c in service.person_cases(id_number=ZHANG)} == {first.case_no, other.case_no}


def test_new_case_overrides_and_repeat_of_chooses(service: RegistrationService) -> None:
    first = service.register(visit())
    second = service.register(visit(), new_case=True)
    assert not second.is_repeat and second.case_no != first.case_no
    chosen = service.register(visit(category="其他纠纷"), repeat_of=first.case_no)
    assert chosen.is_repeat and chosen.case_no == first.case_no
    with pytest.raises(NotFound):
        service.register(visit(), repeat_of="620702001-2026-999999")


def test_person_cases_by_id_or_phone(service: RegistrationService) -> None:
    r = service.register(visit())
    assert [c.case_no for c in service.person_cases(id_number=ZHANG)] == [r.case_no]
    assert [c.case_no for c in service.person_cases(phone="13912345678")] == [r.case_no]
    assert service.person_cases(phone="13000000000") == []
    summary = service.person_cases(id_number=ZHANG)[0]
    assert summary.applicant_id_masked == "620702********" + ZHANG[-4:]


def test_search_by_every_kind_of_key(service: RegistrationService) -> None:
    r = service.register(
        visit(
            parties=[
                {"role": "applicant", "name": "欧阳娜娜", "id_number": ZHANG, "phone": "13912345678"},
                {"role": "respondent", "name": "阿依古丽·买买提", "phone": "0936-8212345"},
            ]
        )
    )
    service.register(
        visit(category="合同纠纷", parties=[{"role": "applicant", "name": "欧文", "phone": "13700001111"}])
    )
    for query in [
        ZHANG,
        ZHANG.lower(),
        "13912345678",
        "139 1234 5678",
        "0936-8212345",
        "09368212345",
        r.case_no,
        "欧阳娜娜",
        "欧阳",
        "oynn",
        "OYNN",
        "阿依古丽·买买提",
        "阿依古丽•买",
    ]:
        assert r.case_no in [c.case_no for c in service.search(query)], query
    assert len(service.search("欧")) == 2
    assert service.search("'; DROP TABLE cases; --") == []
    assert service.search("%") == [] and service.search("_") == []
    assert service.search("   ") == []


def test_unknown_case_is_not_found(service: RegistrationService) -> None:
    with pytest.raises(NotFound, match="不存在"):
        service.case("620702001-2026-000404")


def test_concurrent_registrations_get_distinct_gap_free_numbers(store_url: str) -> None:
    """Eight threads, each with its own store connection pool, register at once."""
    from desk.services.setup import init_hall

    base = open_store(store_url)
    init_hall(base)
    add_tester(base)
    errors: list[BaseException] = []
    numbers: list[str] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        st = open_store(store_url)
        svc = RegistrationService(st, FixedClock(NOW), principal=staff())
        try:
            for i in range(5):
                r = svc.register(
                    visit(parties=[{"role": "applicant", "name": "并发", "phone": f"139{k:04d}{i:04d}"}])
                )
                with lock:
                    numbers.append(r.case_no)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
        finally:
            st.dispose()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == [f"620702001-2026-{i:06d}" for i in range(1, 41)]
    with base.unit_of_work() as s:
        # each registration appends Registered and its DeadlineSet
        assert sorted(s.scalars(sa.select(CaseEvent.hall_seq))) == list(range(1, 81))
    base.dispose()


def test_name_search_exact_first_then_newest_first(service: RegistrationService, clock: FixedClock) -> None:
    made = []
    for i, name in enumerate(["王芳", "王芳华", "王芳", "王", "王芳"]):
        clock.advance(days=1)
        made.append(
            service.register(visit(parties=[{"role": "applicant", "name": name, "phone": f"1390000{i:04d}"}]))
        )
    exact = [made[4], made[2], made[0]]  # newest first
    assert [c.case_no for c in service.search("王芳")] == [r.case_no for r in exact] + [made[1].case_no]
    assert [c.case_no for c in service.search("王芳", limit=2)] == [made[4].case_no, made[2].case_no]
    assert [c.case_no for c in service.search("wf")][:3] == [r.case_no for r in exact]
    assert [c.case_no for c in service.search("王")][0] == made[3].case_no  # the exact one-character name


def test_an_organisation_with_a_dot_in_its_name_is_found_by_it(service: RegistrationService) -> None:
    """A person's `.` is a look-alike of `·`; an organisation's stays a dot, and search finds both."""
    r = service.register(
        visit(
            parties=[
                {"role": "applicant", "name": "张三", "id_number": ZHANG},
                {"role": "respondent", "name": "A.B 物业管理有限公司", "is_organisation": True},
            ]
        )
    )
    for query in ("A.B 物业管理有限公司", "A.B 物业", "A.B  物业管理有限公司"):
        assert [c.case_no for c in service.search(query)] == [r.case_no], query
    assert service.search("A.C 物业") == []
