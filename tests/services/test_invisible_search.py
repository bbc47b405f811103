"""A name registered with an invisible character inside it is stored clean and found by what the screen shows."""

from __future__ import annotations

import pytest

from desk.services.registration import RegistrationService
from desk.store.session import Store
from tests.conftest import visit


def register_named(service: RegistrationService, name: str, phone: str) -> str:
    party = {"role": "applicant", "name": name, "phone": phone}
    return service.register(visit(parties=[party]), new_case=True).case_no


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("张\u3164三", "张三"),  # Hangul filler
        ("张\u200b三", "张三"),  # zero-width space
        ("张\u034f三\ufe0f", "张三"),  # grapheme joiner, variation selector
        ("阿依古丽\u30fb买买提\U000e0041", "阿依古丽·买买提"),  # a dot look-alike, a tag character
        ("Jose\u0301 Li", "José Li"),  # NFC
    ],
)
def test_found_by_the_visible_name(
    service: RegistrationService, store: Store, typed: str, shown: str
) -> None:
    case_no = register_named(service, typed, "13912345678")
    assert service.case(case_no).parties[0].name == shown
    for query in (shown, shown[:-1], typed, f" {shown}\u200b "):
        assert [c.case_no for c in service.search(query)] == [case_no], query
    assert service.search(shown)[0].applicant_name == shown


def test_initials_of_a_cleaned_name(service: RegistrationService) -> None:
    case_no = register_named(service, "王\u200b小\u3164明", "13912345678")
    assert [c.case_no for c in service.search("wxm")] == [case_no]
    assert [c.case_no for c in service.search("w\u200bxm")] == [case_no]


def test_phone_and_id_queries_with_invisible_characters(service: RegistrationService) -> None:
    case_no = register_named(service, "李四", "13912345678")
    assert [c.case_no for c in service.search("139\u200b1234\u202e5678")] == [case_no]
    assert [c.case_no for c in service.search(f"{case_no}\u2060")] == [case_no]


def test_a_bidi_trick_never_finds_another_name(service: RegistrationService) -> None:
    register_named(service, "张三", "13912345678")
    assert service.search("三\u202e张") == []  # shows as 张三 on some screens, is 三张
