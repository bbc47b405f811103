"""A4 documents for the case file: 来访登记表, 人民调解协议书, 吹哨通知单 (ReportLab platypus, embedded CJK font).

These carry the full particulars (ID number, phone, address): they go into the case file, not to the hall.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from desk.core.clock import CHINA_TZ
from desk.core.documents import AgreementData, CaseSheetData, PartyParticulars, WhistleNoticeData
from desk.printing.fonts import cover, register_cjk_font

MARGIN = 20 * mm
WIDTH = A4[0] - 2 * MARGIN - 12  # the frame keeps 6 pt of padding on each side
GRID = colors.black
BLANK = "_" * 12  # a field left to fill in by hand (Paragraph collapses runs of spaces, even U+3000)
DATE_BLANK = "________年_____月_____日"
TERM_LINES = 6  # ruled lines for the terms when none were typed


def _t(value: str) -> str:
    return escape(cover(value))


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y年%m月%d日 %H:%M")


def _date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日" if day else DATE_BLANK


class _Styles:
    def __init__(self) -> None:
        font = register_cjk_font()

        def style(
            name: str,
            size: float,
            *,
            align: int = TA_LEFT,
            leading: float = 1.5,
            indent: float = 0,
            before: float = 0,
            after: float = 0,
        ) -> ParagraphStyle:
            return ParagraphStyle(
                name,
                fontName=font,
                fontSize=size,
                leading=size * leading,
                alignment=align,
                wordWrap="CJK",
                firstLineIndent=indent,
                spaceBefore=before,
                spaceAfter=after,
            )

        self.org = style("org", 12, align=TA_CENTER)
        self.title = style("title", 20, align=TA_CENTER, leading=1.3, before=2 * mm, after=2 * mm)
        self.number = style("number", 10.5, align=TA_RIGHT)
        self.body = style("body", 11, align=TA_JUSTIFY, leading=1.7)
        self.para = style("para", 11, align=TA_JUSTIFY, leading=1.8, indent=22)
        self.head = style("head", 12, leading=1.6, before=3 * mm, after=1 * mm)
        self.cell = style("cell", 10, leading=1.45)
        self.cell_c = style("cell_c", 10, align=TA_CENTER, leading=1.45)
        self.small = style("small", 9, leading=1.5)
        self.small_c = style("small_c", 9, align=TA_CENTER, leading=1.4)
        self.cut = style("cut", 9, align=TA_CENTER)


def _table_style(cmds: list[tuple[object, ...]]) -> TableStyle:
    """A table style whose plain-string cells use the CJK font (ReportLab's default, Helvetica, is not embedded)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), register_cjk_font()), *cmds])


def _grid(
    rows: list[list[Flowable | str]],
    widths: list[float],
    *,
    label_cols: tuple[int, ...] = (),
    extra: list[tuple[object, ...]] | None = None,
) -> Table:
    t = Table(rows, colWidths=widths, hAlign="CENTER")
    cmds: list[tuple[object, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.6, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
    ]
    cmds += [("BACKGROUND", (c, 0), (c, -1), colors.HexColor("#f2f2f2")) for c in label_cols]
    t.setStyle(_table_style(cmds + (extra or [])))
    return t


def _build(flowables: list[Flowable], *, title: str, author: str, footer: str) -> bytes:
    buf = io.BytesIO()
    font = register_cjk_font()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        creator="一厅通",
        initialFontName=font,
    )  # no stray (unembedded) Helvetica in the PDF
    foot = cover(footer)

    def on_page(c: Canvas, d: SimpleDocTemplate) -> None:
        c.saveState()
        c.setFont(font, 8.5)
        c.drawCentredString(A4[0] / 2, 10 * mm, f"{foot}　第 {d.page} 页")
        c.restoreState()

    doc.build(flowables, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


def render_registration_sheet(data: CaseSheetData) -> bytes:
    """来访登记表: the visit and every party's full particulars, for the case file."""
    st = _Styles()
    lab = lambda s: Paragraph(_t(s), st.cell_c)  # noqa: E731
    val = lambda s: Paragraph(_t(s), st.cell)  # noqa: E731
    w4 = [WIDTH * 0.16, WIDTH * 0.34, WIDTH * 0.16, WIDTH * 0.34]
    visit = _grid(
        [
            [lab("案件编号"), val(data.case_no), lab("登记时间"), val(_when(data.registered_at))],
            [lab("来访方式"), val(data.channel), lab("来访人数"), val(f"{data.headcount} 人")],
            [lab("纠纷类别"), val(data.category), lab("登记人"), val(data.registered_by)],
            [lab("排队号"), val(data.ticket or "—"), lab("功能室"), val(data.room_name or "—")],
            [lab("风险提示"), val("、".join(data.risk_flags) or "无"), "", ""],
        ],
        w4,
        label_cols=(0, 2),
        extra=[("SPAN", (1, 4), (3, 4)), ("BACKGROUND", (2, 4), (3, 4), colors.white)],
    )
    narrative = _grid(
        [[lab("来访事由"), Paragraph(_t(data.narrative or "—"), st.body)]],
        [WIDTH * 0.16, WIDTH * 0.84],
        label_cols=(0,),
        extra=[
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 6),
            ("BOTTOMPADDING", (1, 0), (1, 0), 40),
        ],
    )
    signs = Table(
        [
            [
                Paragraph("来访人（签名或按指印）：" + "_" * 18, st.cell),
                Paragraph("登记人（签名）：" + "_" * 22, st.cell),
            ],
            [Paragraph("日期：" + DATE_BLANK, st.cell), Paragraph("日期：" + DATE_BLANK, st.cell)],
        ],
        colWidths=[WIDTH / 2, WIDTH / 2],
        rowHeights=[14 * mm, 9 * mm],
    )
    signs.setStyle(
        _table_style([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    story: list[Flowable] = [
        Paragraph(_t(data.center_name), st.org),
        Paragraph("来访登记表", st.title),
        Paragraph(_t(f"编号：{data.case_no}"), st.number),
        Spacer(0, 2 * mm),
        visit,
        Paragraph("当事人基本情况", st.head),
        *[x for p in data.parties for x in (_party_table(p, st), Spacer(0, 2 * mm))],
        Paragraph("来访事由及诉求", st.head),
        narrative,
        Spacer(0, 6 * mm),
        signs,
        Spacer(0, 4 * mm),
        Paragraph("本表含当事人个人信息，仅供本中心调处本案使用，随案归档，不得外传。", st.small),
    ]
    return _build(
        story,
        title=f"来访登记表 {data.case_no}",
        author=data.center_name,
        footer=f"{data.center_name}　来访登记表　{data.case_no}",
    )


def committee_name(center_name: str) -> str:
    """The people's mediation committee of the center: 甘州区东街街道综治中心 → 甘州区东街街道人民调解委员会."""
    base = center_name.removesuffix("综治中心").removesuffix("综合治理中心")
    return f"{base or center_name}人民调解委员会"


def _party_table(p: PartyParticulars, st: _Styles) -> Table:
    """One party's particulars as a ruled block: role and name, sex and birth date, ID number, phone, address."""
    lab = lambda x: Paragraph(_t(x), st.cell_c)  # noqa: E731
    val = lambda x: Paragraph(_t(x), st.cell)  # noqa: E731
    w = [WIDTH * f for f in (0.15, 0.35, 0.14, 0.36)]
    if p.is_organisation:
        rows = [
            [lab(p.role), val(p.name), lab("联系电话"), val(p.phone or "")],
            [lab("住所地"), val(p.address), "", ""],
        ]
        return _grid(
            rows,
            w,
            label_cols=(0, 2),
            extra=[("SPAN", (1, 1), (3, 1)), ("BACKGROUND", (2, 1), (3, 1), colors.white)],
        )
    rows = [
        [lab(p.role), val(p.name), lab("性别"), val(p.sex or "")],
        [
            lab("出生日期"),
            val(_date(p.birth_date) if p.birth_date else ""),
            lab("联系电话"),
            val(p.phone or ""),
        ],
        [lab("公民身份号码"), val(p.id_number or ""), "", ""],
        [lab("住址"), val(p.address), "", ""],
    ]
    return _grid(
        rows,
        w,
        label_cols=(0, 2),
        extra=[
            ("SPAN", (1, 2), (3, 2)),
            ("SPAN", (1, 3), (3, 3)),
            ("BACKGROUND", (2, 2), (3, 3), colors.white),
        ],
    )


def _ruled(lines: int, st: _Styles, prefix: Callable[[int], str]) -> Table:
    rows = [[Paragraph(_t(prefix(i)), st.body), ""] for i in range(lines)]
    t = Table(rows, colWidths=[10 * mm, WIDTH - 10 * mm], rowHeights=[9 * mm] * lines)
    t.setStyle(
        _table_style(
            [
                ("LINEBELOW", (1, 0), (1, -1), 0.5, GRID),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return t


def render_agreement(data: AgreementData) -> bytes:
    """人民调解协议书: parties with full particulars, facts, numbered terms, performance, signatures and seal."""
    st = _Styles()
    sheet = data.sheet
    committee = committee_name(sheet.center_name)
    story: list[Flowable] = [
        Paragraph(_t(committee), st.org),
        Paragraph("人民调解协议书", st.title),
        Paragraph(
            _t(
                f"编号：{data.document_no}　案件编号：{sheet.case_no}"
                if data.document_no
                else f"编号：{sheet.case_no}"
            ),
            st.number,
        ),
        Spacer(0, 3 * mm),
    ]
    story.append(Paragraph("当事人：", st.head))
    for p in sheet.parties:
        story += [_party_table(p, st), Spacer(0, 2 * mm)]
    story += [
        Paragraph("纠纷事实及争议事项：", st.head),
        Paragraph(_t(data.facts or "—"), st.para),
        Paragraph("经调解，双方当事人自愿达成如下协议：", st.head),
    ]
    if data.terms:
        story += [Paragraph(_t(f"{i}. {term}"), st.body) for i, term in enumerate(data.terms, 1)]
    else:
        story.append(_ruled(TERM_LINES, st, lambda i: f"{i + 1}."))
    story += [Paragraph("履行方式：", st.head)]
    story.append(
        Paragraph(_t(data.performance), st.para) if data.performance else _ruled(2, st, lambda i: "")
    )
    story += [
        Paragraph(
            _t(
                f"履行期限：{_date(data.performance_deadline)}"
                + ("前履行完毕" if data.performance_deadline else "")
            ),
            st.head,
        ),
        Spacer(0, 2 * mm),
        Paragraph(
            "本协议经双方当事人签名（盖章）或按指印，人民调解员签名并加盖人民调解委员会印章后生效。"
            "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。"
            "双方当事人可以自调解协议生效之日起三十日内共同向人民法院申请司法确认。",
            st.para,
        ),
        Paragraph(
            _t(f"本协议一式{len(sheet.parties) + 1}份，当事人各执一份，{committee}留存一份。"), st.para
        ),
    ]
    if data.reminder:
        story.append(Paragraph(_t(data.reminder), st.para))
    story.append(Spacer(0, 4 * mm))
    # signature and fingerprint box per party
    box = 18 * mm
    sig_rows: list[list[Flowable | str]] = [
        [Paragraph(h, st.cell_c) for h in ("当事人", "签名（盖章）", "指印", "日期")]
    ]
    sig_rows += [
        [
            Paragraph(f"{_t(p.role)}<br/>{_t(p.name)}", st.cell_c),
            "",
            "",
            Paragraph("_____年___月___日", st.cell_c),
        ]
        for p in sheet.parties
    ]
    sigs = Table(
        sig_rows,
        colWidths=[WIDTH * 0.26, WIDTH * 0.32, box + 6 * mm, WIDTH * 0.42 - box - 6 * mm],
        rowHeights=[8 * mm] + [box + 4 * mm] * len(sheet.parties),
    )
    sigs.setStyle(
        _table_style(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, GRID),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f2f2")),
            ]
        )
    )
    mediators = "、".join(data.mediators) or "_" * 20
    right = ParagraphStyle("right", parent=st.body, alignment=TA_CENTER)
    closing = Table(
        [
            [Paragraph(_t(f"人民调解员：{mediators}"), st.body), _SealArea(42 * mm)],
            [Paragraph("人民调解员（签名）：" + "_" * 20, st.body), Paragraph(_t(committee), right)],
            [Paragraph("记录人（签名）：" + "_" * 24, st.body), Paragraph("（印章）", right)],
            ["", Paragraph(_t(_date(data.signed_on)), right)],
        ],
        colWidths=[WIDTH - 70 * mm, 70 * mm],
    )
    closing.setStyle(
        _table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("ALIGN", (1, 0), (1, 0), "CENTER"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 1), (-1, -1), 1),
            ]
        )
    )
    story += [KeepTogether([sigs, Spacer(0, 5 * mm), closing])]
    return _build(
        story,
        title=f"人民调解协议书 {sheet.case_no}",
        author=committee,
        footer=f"{committee}　人民调解协议书　{sheet.case_no}",
    )


class _SealArea(Flowable):
    """A dashed circle where the committee's round seal goes."""

    def __init__(self, diameter: float) -> None:
        super().__init__()
        self.d = diameter
        self.hAlign = "CENTER"

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return self.d, self.d

    def draw(self) -> None:
        c = self.canv
        c.saveState()
        c.setStrokeColor(colors.HexColor("#888888"))
        c.setDash(3, 3)
        c.setLineWidth(0.7)
        r = self.d / 2
        c.circle(r, r, r)
        c.setFillColor(colors.HexColor("#888888"))
        c.setFont(register_cjk_font(), 9)
        c.drawCentredString(r, r - 3, "盖章处")
        c.restoreState()


def render_whistle_notice(data: WhistleNoticeData) -> bytes:
    """吹哨通知单: the center summons a department to report by a deadline; a return slip (回执) below the cut."""
    st = _Styles()
    lab = lambda s: Paragraph(_t(s), st.cell_c)  # noqa: E731
    val = lambda s: Paragraph(_t(s), st.cell)  # noqa: E731
    w4 = [WIDTH * 0.16, WIDTH * 0.34, WIDTH * 0.16, WIDTH * 0.34]
    rows: list[list[Flowable | str]] = [
        [lab("接收部门"), val(data.department), lab("案件编号"), val(data.case_no)],
        [lab("纠纷类别"), val(data.category), lab("签发时间"), val(_when(data.issued_at))],
        [lab("吹哨事项"), Paragraph(_t(data.matter), st.body), "", ""],
    ]
    if data.sign_by is None or data.arrive_by is None:  # a notice without the whistle's clocks
        clocks = [[lab("报到时限"), val(f"请于 {_when(data.report_by)} 前到{data.center_name}报到"), "", ""]]
    else:
        clocks = [
            [lab("签收时限"), val(f"请于 {_when(data.sign_by)} 前签收（{data.sign_hours}小时内）"), "", ""],
            [
                lab("报到时限"),
                val(f"请于 {_when(data.arrive_by)} 前派员联系或到场报到（{data.arrive_hours}小时内）"),
                "",
                "",
            ],
            [
                lab("反馈时限"),
                val(f"请于 {_when(data.report_by)} 前反馈办理结果（{data.report_working_days}个工作日内）"),
                "",
                "",
            ],
        ]
    rows += clocks
    rows.append([lab("签发人"), val(data.issued_by), lab("联系方式"), val(data.contact or "—")])
    last_clock = 2 + len(clocks)
    extra: list[tuple[object, ...]] = [
        ("SPAN", (1, 2), (3, 2)),
        *[("SPAN", (1, i), (3, i)) for i in range(3, last_clock + 1)],
        ("BACKGROUND", (2, 2), (3, last_clock), colors.white),
        ("TOPPADDING", (1, 2), (1, 2), 8),
        ("BOTTOMPADDING", (1, 2), (1, 2), 30),
    ]
    if data.notes:
        at = len(rows)
        rows.append([lab("备注"), val("；".join(data.notes)), "", ""])
        extra += [("SPAN", (1, at), (3, at)), ("BACKGROUND", (2, at), (3, at), colors.white)]
    notice = _grid(rows, w4, label_cols=(0, 2), extra=extra)
    slip = _grid(
        [
            [lab("接收部门"), val(data.department), lab("案件编号"), val(data.case_no)],
            [lab("报到时间"), val("________年_____月_____日_____时_____分"), "", ""],
            [lab("报到人"), val(""), lab("联系电话"), val("")],
        ],
        w4,
        label_cols=(0, 2),
        extra=[
            ("SPAN", (1, 1), (3, 1)),
            ("BACKGROUND", (2, 1), (3, 1), colors.white),
            ("TOPPADDING", (0, 0), (-1, -1), 9),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 9),
        ],
    )
    story: list[Flowable] = [
        Paragraph(_t(data.center_name), st.org),
        Paragraph("吹哨通知单", st.title),
        Paragraph(_t(f"编号：{data.case_no}"), st.number),
        Spacer(0, 2 * mm),
        notice,
        Spacer(0, 3 * mm),
        Paragraph("请接收部门按时限派员到场，报到时将下方回执交综治中心存档。", st.small),
        Spacer(0, 6 * mm),
        Paragraph(
            _t(f"{data.center_name}（盖章）"), ParagraphStyle("sign", parent=st.body, alignment=TA_RIGHT)
        ),
        Paragraph(_t(_when(data.issued_at)), ParagraphStyle("date", parent=st.body, alignment=TA_RIGHT)),
        Spacer(0, 10 * mm),
        _CutLine(WIDTH),
        Spacer(0, 6 * mm),
        Paragraph("回执", ParagraphStyle("slip", parent=st.title, fontSize=16, leading=22)),
        slip,
    ]
    return _build(
        story,
        title=f"吹哨通知单 {data.case_no}",
        author=data.center_name,
        footer=f"{data.center_name}　吹哨通知单　{data.case_no}",
    )


class _CutLine(Flowable):
    def __init__(self, width: float) -> None:
        super().__init__()
        self.width = width

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        self.width = min(self.width, aw)
        return self.width, 12

    def draw(self) -> None:
        c = self.canv
        c.saveState()
        c.setDash(4, 3)
        c.setLineWidth(0.6)
        label = "沿此线剪开"
        c.setFont(register_cjk_font(), 8.5)
        tw = c.stringWidth(label) + 16
        mid = self.width / 2
        c.line(0, 6, mid - tw / 2, 6)
        c.line(mid + tw / 2, 6, self.width, 6)
        c.drawCentredString(mid, 3, label)
        c.restoreState()
