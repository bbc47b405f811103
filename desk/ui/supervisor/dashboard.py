"""今日概况: the day's figures at a glance, each number with its definition as a tooltip (desk.core.metrics); a
number that has a list behind it opens that list (the supervisor window's tabs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desk.core.metrics import DEFINITIONS

if TYPE_CHECKING:
    from desk.services.reports import Dashboard

LEVELS = (("serious", "重大"), ("major", "较大"), ("general", "一般"))
OPENS = {
    "overdue": "overdue",
    "warnings_open": "warnings",
    "whistles_late": "whistles",
    "follow_ups_due": "follow_ups",
}
"""The figures with a list behind them, and the list (a tab of the supervisor's window) each opens."""


def minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} 分钟"


class DashboardPanel(QWidget):
    """The tiles: caption above, the number large below; a click (or Enter) on one with a list opens it."""

    sig_open = Signal(str)
    """A figure was clicked; carries the list it opens: warnings | overdue | whistles | follow_ups."""

    CAPTIONS = (
        ("visits_today", "今日来访"),
        ("waiting_now", "正在等候"),
        ("wait_mean", "平均等候"),
        ("wait_p90", "等候 90 分位"),
        ("abandoned_today", "今日离开"),
        ("resolved_today", "今日化解"),
        ("overdue", "逾期案件"),
        ("warnings_open", "未阅预警"),
        ("whistles_late", "吹哨超时"),
        ("follow_ups_due", "待回访"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.heading = QLabel(self)
        layout.addWidget(self.heading)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(12)
        self.values: dict[str, QPushButton] = {}
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 2.2)
        big.setBold(True)
        for i, (key, caption) in enumerate(self.CAPTIONS):
            row, col = divmod(i, 5)
            tile = QVBoxLayout()
            label = QLabel(self.tr(caption), self)
            label.setStyleSheet("color: #555;")
            value = QPushButton("—", self)
            value.setFlat(True)
            value.setFont(big)
            value.setToolTip(DEFINITIONS[key])
            value.setAutoDefault(False)
            if key in OPENS:
                value.clicked.connect(lambda _checked=False, k=OPENS[key]: self.sig_open.emit(k))
                value.setToolTip(DEFINITIONS[key] + self.tr("（点击查看清单）"))
            tile.addWidget(label)
            tile.addWidget(value)
            self.values[key] = value
            grid.addLayout(tile, row * 2, col)
        layout.addLayout(grid)
        self.rooms_label = QLabel(self)
        self.rooms_label.setWordWrap(True)
        layout.addWidget(self.rooms_label)
        layout.addStretch(1)

    def show_dashboard(self, d: Dashboard, room_names: dict[str, str]) -> None:
        self.heading.setText(self.tr("{day:%Y年%m月%d日}（北京时间）").format(day=d.day))
        levels = "  ".join(f"{name} {d.warnings_open.get(code, 0)}" for code, name in LEVELS)
        shown = {
            "visits_today": str(d.visits_today),
            "waiting_now": str(d.waiting_total),
            "wait_mean": minutes(d.wait_mean),
            "wait_p90": minutes(d.wait_p90),
            "abandoned_today": str(d.abandoned_today),
            "resolved_today": str(d.resolved_today),
            "overdue": str(d.overdue),
            "warnings_open": str(sum(d.warnings_open.values())),
            "whistles_late": str(d.whistles_late),
            "follow_ups_due": str(d.follow_ups_due),
        }
        for key, text in shown.items():
            self.values[key].setText(text)
        self.values["warnings_open"].setToolTip(DEFINITIONS["warnings_open"] + "：" + levels)
        waiting = "，".join(
            f"{room_names.get(code, code)} {n} 人" for code, n in sorted(d.waiting_now.items())
        )
        self.rooms_label.setText(self.tr("各室等候：{rooms}").format(rooms=waiting or self.tr("无")))
