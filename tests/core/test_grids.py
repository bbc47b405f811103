"""The derived fields: the grid of an address, the age band of a birth date."""

from __future__ import annotations

import datetime as dt

import pytest

from desk.core.grids import AGE_BANDS, Grid, age_band, bundled_grids, grid_of, parse_grids
from desk.errors import DeskError

DAY = dt.date(2026, 11, 27)


def test_the_bundled_catalog_has_the_streets_and_townships_of_ganzhou() -> None:
    grids = bundled_grids()
    names = {g.name for g in grids}
    assert len(grids) == 23
    assert {"东街街道", "火车站街道", "梁家墩镇", "平山湖蒙古族乡", "龙渠乡"} <= names
    assert all(g.code.startswith("GZ") for g in grids)


@pytest.mark.parametrize(
    ("address", "name"),
    [
        ("甘州区东街街道县府街12号", "东街街道"),
        ("张掖市甘州区梁家墩镇五号村3社", "梁家墩镇"),
        ("甘州区 平山湖蒙古族乡 紫泥泉村", "平山湖蒙古族乡"),
        ("甘州区火车站街道站前路", "火车站街道"),
    ],
)
def test_an_address_gives_its_township_or_street(address: str, name: str) -> None:
    code = {g.name: g.code for g in bundled_grids()}[name]
    assert grid_of(address) == code


@pytest.mark.parametrize("address", ["", None, "民乐县洪水镇", "临泽县沙河镇12号", "某小区3号楼"])
def test_an_address_naming_no_grid_of_the_county_has_none(address: str | None) -> None:
    assert grid_of(address) is None


def test_the_longest_name_wins() -> None:
    grids = (Grid("A", "湖乡"), Grid("B", "平山湖蒙古族乡"))
    assert grid_of("平山湖蒙古族乡紫泥泉村", grids) == "B"


def test_full_width_and_spaces_do_not_hide_the_name() -> None:
    assert grid_of("甘州区　大满镇 ") == grid_of("甘州区大满镇")


def test_a_malformed_catalog_is_refused_in_chinese() -> None:
    with pytest.raises(DeskError, match="网格"):
        parse_grids({"format": "hall-desk-grids/1", "grids": [{"code": "X"}]})
    with pytest.raises(DeskError, match="重复"):
        parse_grids({"format": "hall-desk-grids/1", "grids": [{"code": "X", "name": "甲"}] * 2})


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (dt.date(2008, 11, 28), "<18"),  # 17, turns 18 tomorrow
        (dt.date(2008, 11, 27), "18-29"),  # 18 today
        (dt.date(1997, 11, 28), "18-29"),  # 28
        (dt.date(1996, 11, 27), "30-39"),
        (dt.date(1986, 11, 28), "30-39"),
        (dt.date(1976, 1, 1), "50-59"),
        (dt.date(1966, 11, 27), "60-69"),
        (dt.date(1956, 11, 28), "60-69"),  # 69
        (dt.date(1956, 11, 27), "70+"),
        (dt.date(1920, 2, 29), "70+"),
    ],
)
def test_age_band_on_the_registration_day(born: dt.date, band: str) -> None:
    assert age_band(born, DAY) == band
    assert band in AGE_BANDS


def test_no_birth_date_no_band() -> None:
    assert age_band(None, DAY) is None
