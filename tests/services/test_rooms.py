"""The rooms service: editing rooms and the mediator roster, every field checked; edits move the change mark."""

from __future__ import annotations

import pytest

from desk.errors import NotFound, ValidationError
from desk.services.display import DisplayService
from desk.services.rooms import RoomsService


def test_rooms_edit_validation_and_mediators(rooms: RoomsService) -> None:
    r1 = rooms.room("R01")
    assert r1.waiting == 0 and len(r1.staff) == 2 and r1.departments == ()
    assert [m.name for m, mode in rooms.room_mediators("R01")] == ["刘秀英", "马建国"]
    with pytest.raises(ValidationError) as e:
        rooms.update_room(
            "R01",
            name="",
            kind="人民调解室",
            prefix="F",
            capacity=0,
            location="一楼",
            categories=["neighbour"],
        )
    assert {p.field for p in e.value.problems} == {"name", "prefix", "capacity"}
    assert "已由“警调对接室”使用" in e.value.message
    edited = rooms.update_room(
        "R01",
        name="第一人民调解室",
        kind="人民调解室",
        prefix="a",
        capacity=8,
        location="一楼东侧",
        categories=["neighbour", "neighbour", "contract"],
        staff=[{"mediator_id": rooms.mediators()[0].id, "mode": "on_call"}],
    )
    assert (edited.name, edited.prefix, edited.categories) == (
        "第一人民调解室",
        "A",
        ("neighbour", "contract"),
    )


def test_room_staff_and_departments_are_checked(rooms: RoomsService) -> None:
    mid = rooms.mediators()[0].id
    with pytest.raises(ValidationError) as e:
        rooms.update_room(
            "R01",
            name="人民调解室",
            kind="人民调解室",
            prefix="A",
            capacity=6,
            location="",
            categories=["neighbour"],
            staff=[
                {"mediator_id": mid, "mode": "resident"},
                {"mediator_id": mid, "mode": "on_call"},
                {"mediator_id": "nobody", "mode": "resident"},
            ],
            departments=[{"name": "区司法局", "mode": "weekly"}],
        )
    fields = [p.field for p in e.value.problems]
    assert fields.count("staff") == 2 and "departments" in fields


def test_mediator_roster(rooms: RoomsService, display: DisplayService) -> None:
    added = rooms.save_mediator(
        None, name="扎西·次仁", grade="二级调解员", specialties=["grassland"], phone="139 0936 1234"
    )
    assert (added.name, added.phone, added.specialties) == ("扎西·次仁", "13909361234", ("grassland",))
    assert added.id in {m.id for m in rooms.mediators()}
    fixed = rooms.save_mediator(
        added.id, name="扎西•次仁", grade="一级调解员", specialties=["grassland", "irrigation"]
    )
    assert (fixed.grade, fixed.phone) == ("一级调解员", "")
    with pytest.raises(ValidationError) as e:
        rooms.save_mediator(None, name="张3", phone="123", specialties=["astrology"], grade="级" * 21)
    assert {p.field for p in e.value.problems} == {"name", "phone", "grade", "specialties"}
    liu = next(m for m in rooms.mediators() if m.name == "刘秀英")
    mark = display.change_mark()
    rooms.retire_mediator(liu.id)
    assert display.change_mark() > mark
    assert liu.id not in {m.id for m in rooms.mediators()}
    assert [m.name for m, _mode in rooms.room_mediators("R01")] == ["马建国"]


def test_unknown_room_or_mediator_is_not_found(rooms: RoomsService) -> None:
    with pytest.raises(NotFound):
        rooms.room("R99")
    with pytest.raises(NotFound):
        rooms.set_room_open("R99", False)
    with pytest.raises(NotFound):
        rooms.update_room(
            "R99", name="某室", kind="人民调解室", prefix="Y", capacity=4, location="", categories=[]
        )
    with pytest.raises(NotFound):
        rooms.retire_mediator("nobody")
    with pytest.raises(NotFound):
        rooms.save_mediator("nobody", name="张三")
