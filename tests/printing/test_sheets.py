"""The A4 documents for the case file: full particulars read back; the agreement's sections; the whistle notice."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from desk.config import Settings
from desk.core.clock import FixedClock
from desk.core.documents import AgreementData, CaseSheetData, PartyParticulars, WhistleNoticeData
from desk.printing.sheets import (
    committee_name,
    render_agreement,
    render_registration_sheet,
    render_whistle_notice,
)
from desk.services.documents import DocumentService
from desk.services.registration import RegistrationService
from desk.store.session import Store
from tests.conftest import staff, valid_id, visit
from tests.printing.pdftools import compact, embedded_fonts, pdftotext

APPLICANT_ID = valid_id("62070219850101123")
RESPONDENT_ID = valid_id("65010219900503122")
NARRATIVE = "邻居在院墙外堆放杂物占用通道，多次沟通未果，申请人要求对方清理杂物并赔礼道歉。"


@pytest.fixture
def sheet(service: RegistrationService, store: Store, clock: FixedClock) -> CaseSheetData:
    r = service.register(
        visit(
            headcount=2,
            narrative=NARRATIVE,
            risk_flags=["psychological_crisis"],
            parties=[
                {
                    "role": "applicant",
                    "name": "张三",
                    "id_number": APPLICANT_ID,
                    "phone": "13912345678",
                    "address": "甘州区东街街道1号",
                },
                {
                    "role": "respondent",
                    "name": "阿依古丽·买买提",
                    "id_number": RESPONDENT_ID,
                    "phone": "13800001111",
                    "address": "甘州区西街街道南关村三社28号院",
                },
            ],
        )
    )
    return DocumentService(store, clock, Settings(), principal=staff()).sheet_data(r.case_no)


def _only_cjk_font_embedded(pdf: bytes, tmp: Path) -> None:
    fonts = embedded_fonts(pdf, tmp)
    assert fonts and all("WenQuanYi" in name and emb for name, emb in fonts), (
        fonts
    )  # subsets of 256 glyphs each


def test_registration_sheet_has_the_full_particulars(sheet: CaseSheetData, tmp_path: Path) -> None:
    pdf = render_registration_sheet(sheet)
    text = pdftotext(pdf, tmp_path)
    for shown in (
        "甘州区东街街道综治中心",
        "来访登记表",
        sheet.case_no,
        "2026年11月27日 10:00",
        "来访",
        "邻里纠纷",
        "测试前台",
        "心理危机",
        "张三",
        "男",
        "1985年01月01日",
        APPLICANT_ID,
        "13912345678",
        "甘州区东街街道1号",
        "阿依古丽·买买提",
        "女",
        RESPONDENT_ID,
        "13800001111",
        "甘州区西街街道南关村三社28号院",
    ):
        assert shown in text, shown
    assert NARRATIVE in compact(pdftotext(pdf, tmp_path, layout=False)) and "来访人数2人" in compact(text)
    assert "来访人（签名或按指印）" in text and "登记人（签名）" in text
    _only_cjk_font_embedded(pdf, tmp_path)


def test_agreement_with_terms(sheet: CaseSheetData, tmp_path: Path) -> None:
    data = AgreementData(
        sheet=sheet,
        facts=sheet.narrative,
        terms=("被申请人于2026年12月5日前清理院墙外杂物，恢复通道畅通。", "双方今后互谅互让。"),
        performance="被申请人自行清理，申请人予以配合。",
        performance_deadline=dt.date(2026, 12, 5),
        mediators=("刘秀英", "马建国"),
        signed_on=dt.date(2026, 11, 27),
    )
    pdf = render_agreement(data)
    text = pdftotext(pdf, tmp_path)
    flat = compact(text)
    for shown in (
        "甘州区东街街道人民调解委员会",
        "人民调解协议书",
        f"编号：{sheet.case_no}",
        "当事人：",
        "申请人",
        "张三",
        "1985年01月01日",
        APPLICANT_ID,
        "13912345678",
        "甘州区东街街道1号",
        "被申请人",
        "阿依古丽·买买提",
        RESPONDENT_ID,
        "纠纷事实及争议事项：",
        "经调解，双方当事人自愿达成如下协议：",
        "1. 被申请人于2026年12月5日前清理院墙外杂物，恢复通道畅通。",
        "2. 双方今后互谅互让。",
        "履行方式：",
        "被申请人自行清理，申请人予以配合。",
        "履行期限：2026年12月05日前履行完毕",
        "人民调解员：刘秀英、马建国",
        "2026年11月27日",
        "（印章）",
        "指印",
        "签名（盖章）",
    ):
        assert shown in text, shown
    assert NARRATIVE in compact(pdftotext(pdf, tmp_path, layout=False))
    assert "本协议经双方当事人签名（盖章）或按指印，人民调解员签名并加盖人民调解委员会印章后生效。" in flat
    _only_cjk_font_embedded(pdf, tmp_path)


def test_agreement_without_terms_has_ruled_lines_to_fill_in(sheet: CaseSheetData, tmp_path: Path) -> None:
    text = pdftotext(render_agreement(AgreementData(sheet=sheet, facts=sheet.narrative)), tmp_path)
    lines = [line.strip() for line in text.splitlines()]
    assert all(f"{i}." in lines for i in range(1, 7))  # numbered blank lines
    assert "履行期限：________年_____月_____日" in text


def test_organisation_party_and_rare_characters(sheet: CaseSheetData, tmp_path: Path) -> None:
    parties = (
        PartyParticulars("申请人", "𠮷祥", "男", dt.date(1970, 3, 4), APPLICANT_ID, "13912345678", "东街1号"),
        PartyParticulars(
            "被申请人",
            "甘州区某物业服务有限公司",
            None,
            None,
            None,
            "0936-8000000",
            "北环路9号",
            is_organisation=True,
        ),
    )
    data = dataclasses.replace(sheet, parties=parties)
    for pdf in (render_registration_sheet(data), render_agreement(AgreementData(sheet=data, facts="事实"))):
        text = pdftotext(pdf, tmp_path)
        assert "𠮷祥" in text and "甘州区某物业服务有限公司" in text and "0936-8000000" in text
        _only_cjk_font_embedded(pdf, tmp_path)


def test_whistle_notice(tmp_path: Path) -> None:
    data = WhistleNoticeData(
        center_name="甘州区东街街道综治中心",
        case_no="620702001-2026-000007",
        category="邻里纠纷",
        department="甘州区住房和城乡建设局",
        matter="院墙外违章搭建需住建部门现场认定并依法处置。",
        report_by=dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC),
        issued_at=dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC),
        issued_by="王主任",
        contact="0936-8212335",
        notes=("请携带相关执法文书",),
    )
    pdf = render_whistle_notice(data)
    text = pdftotext(pdf, tmp_path)
    for shown in (
        "吹哨通知单",
        "甘州区住房和城乡建设局",
        "620702001-2026-000007",
        "院墙外违章搭建需住建部门现场认定并依法处置。",
        "请于 2026年11月28日 10:00 前到甘州区东街街道综治中心报到",
        "王主任",
        "0936-8212335",
        "请携带相关执法文书",
        "沿此线剪开",
        "回执",
        "报到时间",
        "报到人",
        "________年_____月_____日_____时_____分",
    ):
        assert shown in text, shown
    _only_cjk_font_embedded(pdf, tmp_path)


def test_committee_name() -> None:
    assert committee_name("甘州区东街街道综治中心") == "甘州区东街街道人民调解委员会"
    assert committee_name("某某村") == "某某村人民调解委员会"
