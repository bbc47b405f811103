"""纠纷走势 (矛盾纠纷走势动态图): new cases per day, week or month and category, drawn with pyqtgraph (Qt Charts is
deprecated since Qt 6.10); the categories rising by the rule (desk.core.metrics: ≥ 30% over the period before)
are drawn red and named under the chart, with the rule; a click on a point lists its cases below."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

os.environ.setdefault(
    "PYQTGRAPH_QT_LIB", "PySide6"
)  # the binding the desk runs on, whatever else is installed
import pyqtgraph as pg  # noqa: E402

from desk.ui.models.case_table import CaseTableModel  # noqa: E402

if TYPE_CHECKING:
    from desk.services.reports import Trend
    from desk.services.views import CaseSummary

GRAIN_LABELS = {"day": "按日（近 30 天）", "week": "按周（近 12 周）", "month": "按月（近 12 个月）"}
COLOURS = ("#1d4ed8", "#047857", "#7c3aed", "#b45309", "#0e7490", "#be185d", "#4d7c0f", "#334155")
RISING = "#dc2626"


def window_of(today: dt.date, grain: str) -> tuple[dt.date, dt.date]:
    """The first and last day the chart covers for `grain`: 30 days, 12 weeks or 12 months up to today."""
    if grain == "day":
        return today - dt.timedelta(days=29), today
    if grain == "week":
        return today - dt.timedelta(weeks=11), today
    first = today.replace(day=1)
    for _ in range(11):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first, today


def period_label(start: dt.date, grain: str) -> str:
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.month}/{start.day}"


class TrendPanel(QWidget):
    """Filters on top (period, category, channel, township), the chart, the rule and what rises, the cases of the
    point clicked. `sig_filters_changed` asks the window to read the trend again; `sig_point` to list a point's."""

    sig_filters_changed = Signal()
    sig_point = Signal(str, object)
    """A point was clicked: its category's code and its period's first day."""

    def __init__(
        self,
        categories: Mapping[str, str],
        channels: Mapping[str, str],
        grids: Sequence[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._names = dict(categories)
        self.trend: Trend | None = None
        self.grain_combo = QComboBox(self)
        for code, label in GRAIN_LABELS.items():
            self.grain_combo.addItem(self.tr(label), code)
        self.category_combo = self._combo(self.tr("全部类别"), categories.items())
        self.channel_combo = self._combo(self.tr("全部渠道"), channels.items())
        self.grid_combo = self._combo(self.tr("全部乡镇街道"), grids)
        row = QHBoxLayout()
        for label, combo in (
            (self.tr("周期"), self.grain_combo),
            (self.tr("类别"), self.category_combo),
            (self.tr("渠道"), self.channel_combo),
            (self.tr("乡镇街道"), self.grid_combo),
        ):
            row.addWidget(QLabel(label, self))
            row.addWidget(combo)
            combo.currentIndexChanged.connect(lambda _i: self.sig_filters_changed.emit())
        row.addStretch(1)
        self.plot = pg.PlotWidget(background="w")
        self.plot.showGrid(x=False, y=True, alpha=0.3)
        self.plot.setLabel("left", self.tr("新登记案件数"))
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.legend = self.plot.addLegend(offset=(10, 10))
        self.rule_label = QLabel(self)
        self.rule_label.setWordWrap(True)
        self.rule_label.setTextFormat(Qt.TextFormat.PlainText)
        self.cases_label = QLabel(self.tr("点击图中的点，列出该期该类别的案件"), self)
        self.cases_model = CaseTableModel(category_names=categories, parent=self)
        self.cases_view = QTableView(self)
        self.cases_view.setModel(self.cases_model)
        self.cases_view.verticalHeader().setVisible(False)
        self.cases_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.cases_view.horizontalHeader().setStretchLastSection(True)
        self.cases_view.setMaximumHeight(self.fontMetrics().height() * 9)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.rule_label)
        layout.addWidget(self.cases_label)
        layout.addWidget(self.cases_view)

    def _combo(self, everything: str, items: Any) -> QComboBox:
        combo = QComboBox(self)
        combo.addItem(everything, "")
        for code, name in items:
            combo.addItem(name, code)
        return combo

    # --- what the window asks ---------------------------------------------------------------------------

    @property
    def grain(self) -> str:
        return str(self.grain_combo.currentData())

    def filters(self) -> dict[str, tuple[str, ...]]:
        """The filters as `ReportService.trend` takes them (an empty one: everything)."""
        out: dict[str, tuple[str, ...]] = {}
        for key, combo in (
            ("categories", self.category_combo),
            ("channels", self.channel_combo),
            ("grids", self.grid_combo),
        ):
            if combo.currentData():
                out[key] = (str(combo.currentData()),)
        return out

    def show_trend(self, trend: Trend) -> None:
        self.trend = trend
        self.plot.clear()
        self.legend.clear()
        xs = list(range(len(trend.periods)))
        ranked = sorted(trend.by_category.items(), key=lambda kv: -sum(kv[1]))
        for i, (code, counts) in enumerate(ranked[: len(COLOURS)]):
            up = code in trend.rising
            colour = RISING if up else COLOURS[i % len(COLOURS)]
            name = self._names.get(code, code) + (" ↑" if up else "")
            item = pg.PlotDataItem(
                xs,
                list(counts),
                pen=pg.mkPen(colour, width=3 if up else 1.5),
                symbol="o",
                symbolSize=8,
                symbolBrush=colour,
                name=name,
            )
            item.sigPointsClicked.connect(lambda _item, points, _ev, c=code: self._on_clicked(c, points))
            self.plot.addItem(item)
        step = max(1, len(xs) // 12)
        ticks = [(x, period_label(p, trend.grain)) for x, p in zip(xs, trend.periods, strict=True)][::step]
        self.plot.getAxis("bottom").setTicks([ticks])
        rising = "、".join(self._names.get(c, c) for c in sorted(trend.rising))
        self.rule_label.setText(
            trend.rule
            + "。"
            + (self.tr("本期上升：{names}").format(names=rising) if rising else self.tr("本期无上升类别"))
        )

    def _on_clicked(self, category: str, points: Any) -> None:
        if self.trend is None or not len(points):
            return
        x = int(round(points[0].pos().x()))
        if 0 <= x < len(self.trend.periods):
            self.sig_point.emit(category, self.trend.periods[x])

    def show_cases(self, category: str, period: dt.date, cases: Sequence[CaseSummary]) -> None:
        assert self.trend is not None
        self.cases_label.setText(
            self.tr("{name}，{period} 起：{n} 件（双击查看案件）").format(
                name=self._names.get(category, category),
                period=period_label(period, self.trend.grain),
                n=len(cases),
            )
        )
        self.cases_model.set_cases(cases)
