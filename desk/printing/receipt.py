"""The citizen's receipt (受理回执): 80 mm thermal roll (72 mm printable, page as long as the content) or A5.

Privacy (DESIGN.md): the receipt shows only masked identifiers, the ticket, the room and how to follow the case.
`ReceiptData` carries no full ID number, phone, address or narrative, so nothing here can print them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, HRFlowable, Paragraph, Spacer, Table, TableStyle

from desk.config import placeholder_host
from desk.core.clock import CHINA_TZ
from desk.core.documents import ReceiptData
from desk.errors import DeskError
from desk.printing.fonts import cover, register_cjk_font
from desk.printing.qr import QrCode

RECEIPT_FORMATS = ("80mm", "a5")
PRIVACY_NOTE = "您的个人信息仅用于本次矛盾纠纷调处，依法保护。"
TIME_FORMAT = "%Y-%m-%d %H:%M"
DEMO_NOTE = "演示回执 · 示例数据，不是正式受理凭证"


@dataclass(frozen=True)
class Layout:
    page_width: float
    margin_x: float
    margin_y: float
    scale: float  # font sizes relative to the 80 mm roll
    qr_size: float
    fixed_height: float | None  # None: the page is as long as its content (a roll)


LAYOUTS = {
    "80mm": Layout(
        page_width=80 * mm, margin_x=4 * mm, margin_y=4 * mm, scale=1.0, qr_size=36 * mm, fixed_height=None
    ),
    "a5": Layout(
        page_width=A5[0], margin_x=16 * mm, margin_y=12 * mm, scale=1.2, qr_size=44 * mm, fixed_height=A5[1]
    ),
}


def _text(value: str) -> str:
    """Paragraph markup for plain text: escaped, and every character printable (see fonts.cover)."""
    return escape(cover(value))


class _Styles:
    def __init__(self, font: str, k: float) -> None:
        def style(
            name: str,
            size: float,
            *,
            align: int = TA_LEFT,
            leading: float = 1.35,
            color: colors.Color = colors.black,
        ) -> ParagraphStyle:
            return ParagraphStyle(
                name,
                fontName=font,
                fontSize=size * k,
                leading=size * k * leading,
                alignment=align,
                wordWrap="CJK",
                textColor=color,
            )

        self.center = style("center", 10.5, align=TA_CENTER)
        self.title = style("title", 16, align=TA_CENTER, leading=1.25)
        self.reprint = style("reprint", 10.5, align=TA_CENTER, color=colors.white)
        self.label = style("label", 9)
        self.value = style("value", 9)
        self.ticket_label = style("ticket_label", 9, align=TA_CENTER)
        self.ticket = style("ticket", 38, align=TA_CENTER, leading=1.1)
        self.room = style("room", 11.5, align=TA_CENTER)
        self.caption = style("caption", 10, align=TA_CENTER)
        self.small = style("small", 7.5, align=TA_CENTER)
        self.note = style("note", 7.5, leading=1.4)


def _fields(rows: list[tuple[str, str]], st: _Styles, width: float, k: float) -> Table:
    label_w = 17 * mm * k
    data = [[Paragraph(_text(label), st.label), Paragraph(_text(value), st.value)] for label, value in rows]
    t = Table(data, colWidths=[label_w, width - label_w], hAlign="LEFT")
    t.setStyle(
        TableStyle(
            [
                (
                    "FONTNAME",
                    (0, 0),
                    (-1, -1),
                    register_cjk_font(),
                ),  # not the default Helvetica, which is not embedded
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0.6 * k),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0.6 * k),
            ]
        )
    )
    return t


def _rule(k: float, dashed: bool = True) -> HRFlowable:
    return HRFlowable(
        width="100%",
        thickness=0.6 * k,
        color=colors.black,
        spaceBefore=2.2 * mm * k,
        spaceAfter=2.2 * mm * k,
        dash=(2, 2) if dashed else None,
    )


def _bar(text: str, st: _Styles, width: float, k: float) -> Table:
    """White on black across the receipt: 补打, 演示."""
    bar = Table([[Paragraph(_text(text), st.reprint)]], colWidths=[width])
    bar.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), register_cjk_font()),
                ("BACKGROUND", (0, 0), (-1, -1), colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 1.2 * k),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2 * k),
            ]
        )
    )
    return bar


def _qr_caption(data: ReceiptData) -> str:
    if not data.demo:
        return "扫码查询办理进度"
    if placeholder_host(urlsplit(data.status_url).hostname or "localhost"):
        return "演示：二维码为示例地址，不能查询"
    return "扫码查询办理进度（演示）"


def _wait_text(minutes: int) -> str:
    return "即将叫号，请留意大厅叫号屏" if minutes <= 0 else f"约 {minutes} 分钟"


def receipt_flowables(data: ReceiptData, layout: Layout, width: float) -> list[Flowable]:
    """What the receipt shows, top to bottom."""
    font = register_cjk_font()
    k = layout.scale
    st = _Styles(font, k)
    out: list[Flowable] = [
        Paragraph(_text(data.center_name or "综治中心"), st.center),
        Spacer(0, 1.2 * mm * k),
        Paragraph("受理回执（演示）" if data.demo else "受理回执", st.title),
    ]
    if data.demo:
        out += [Spacer(0, 1.5 * mm * k), _bar(DEMO_NOTE, st, width, k)]
    if data.reprint:
        when = (
            f" · {data.printed_at.astimezone(CHINA_TZ).strftime(TIME_FORMAT)} 重新打印"
            if data.printed_at
            else ""
        )
        out += [Spacer(0, 1.5 * mm * k), _bar(f"补打{when}", st, width, k)]
    out.append(_rule(k, dashed=False))
    if data.ticket:
        out += [
            Paragraph("您的排队号", st.ticket_label),
            Spacer(0, 1 * mm * k),
            Paragraph(_text(data.ticket), st.ticket),
        ]
        if data.room_name:
            out += [Spacer(0, 0.8 * mm * k), Paragraph(_text(f"请到 {data.room_name} 等候叫号"), st.room)]
            if data.room_location:
                out.append(Paragraph(_text(f"位置：{data.room_location}"), st.caption))
    else:
        out.append(Paragraph("请在大厅等候区稍候，工作人员将为您安排", st.room))
    out.append(_rule(k))
    rows = [
        ("案件编号", data.case_no),
        ("登记时间", data.registered_at.astimezone(CHINA_TZ).strftime(TIME_FORMAT)),
    ]
    if data.ticket and data.estimated_wait_minutes is not None:
        rows.append(("预计等候", _wait_text(data.estimated_wait_minutes)))
    rows.append(("申请人", data.applicant_masked_name))
    if data.applicant_masked_id:
        rows.append(("证件号码", data.applicant_masked_id))
    rows.append(("纠纷类别", data.category))
    out += [
        _fields(rows, st, width, k),
        _rule(k),
        QrCode(data.status_url, max_size=layout.qr_size),
        Spacer(0, 1 * mm * k),
        Paragraph(_qr_caption(data), st.caption),
        _rule(k),
    ]
    phones = f"服务热线 {data.hotline}"
    if data.center_phone:
        phones += f"　中心电话 {data.center_phone}"
    out += [
        Paragraph(_text(phones), st.caption),
        Spacer(0, 1.5 * mm * k),
        Paragraph(_text(PRIVACY_NOTE), st.note),
        Spacer(0, 1 * mm * k),
        Paragraph("请妥善保管本回执，凭号入室。", st.note),
    ]
    return out


def _place(c: Canvas, flowables: list[Flowable], x: float, top: float, width: float, *, draw: bool) -> float:
    """Stack the flowables from `top` down (draw=False only measures); returns the height used."""
    y = top
    for i, f in enumerate(flowables):
        w, h = f.wrap(width, 10_000)
        before = f.getSpaceBefore() if i else 0
        y -= before + h
        if draw:
            align = getattr(f, "hAlign", "LEFT")
            dx = (width - w) / 2 if align == "CENTER" and w < width else 0
            f.drawOn(c, x + dx, y)
        y -= f.getSpaceAfter()
    return top - y


def render_receipt(data: ReceiptData, *, fmt: str = "80mm") -> bytes:
    """The receipt as a PDF: `fmt` "80mm" (thermal roll, page fitted to the content) or "a5"."""
    layout = LAYOUTS.get(fmt)
    if layout is None:
        raise DeskError(f"回执格式 {fmt} 不支持（可选：{'、'.join(RECEIPT_FORMATS)}）")
    if not data.demo and placeholder_host(urlsplit(data.status_url).hostname or "localhost"):
        # DocumentService checks the setting; this keeps any other caller from printing one either
        raise DeskError(
            "不能打印回执：二维码的查询地址是示例地址，请先设置 status_base_url（desk settings set）"
        )
    width = layout.page_width - 2 * layout.margin_x
    flowables = receipt_flowables(data, layout, width)
    font = register_cjk_font()
    height = _place(Canvas(io.BytesIO(), initialFontName=font), flowables, 0, 0, width, draw=False)
    page_height = layout.fixed_height or height + 2 * layout.margin_y
    fit = min(
        1.0, (page_height - 2 * layout.margin_y) / height
    )  # A5: an unusually long receipt is shrunk to fit
    buf = io.BytesIO()
    c = Canvas(
        buf, pagesize=(layout.page_width, page_height), pageCompression=1, initialFontName=font
    )  # no stray (unembedded) Helvetica in the PDF
    c.setTitle(f"受理回执{'（演示）' if data.demo else ''} {data.case_no}")
    c.setAuthor(data.center_name)
    c.setCreator("一厅通")
    if fit < 1.0:
        c.translate(layout.page_width * (1 - fit) / 2, (page_height - layout.margin_y) * (1 - fit))
        c.scale(fit, fit)
    _place(c, flowables, layout.margin_x, page_height - layout.margin_y, width, draw=True)
    c.showPage()
    c.save()
    return buf.getvalue()
