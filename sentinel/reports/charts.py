"""Bar charts drawn on the server as SVG: no script, no inline style (the strict CSP), colours
from classes in static/reports/reports.css. Each chart is drawn beside a table of the same
figures, which is what screen readers and the CSV read."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_CATEGORIES = 40  # more rows than this and the chart shows the first ones; the table has all
LABEL_WIDTH = 190
PLOT_WIDTH = 460
VALUE_WIDTH = 70
BAR_HEIGHT = 14
ROW_GAP = 10
LEGEND_HEIGHT = 26


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    series: int
    title: str


@dataclass(frozen=True)
class Text:
    x: int
    y: int
    text: str
    anchor: str = "start"
    css: str = "chart-label"


@dataclass
class Chart:
    """What the template draws: ``width`` x ``height``, bars, texts, a legend."""

    title: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    legend: list[tuple[int, int, int, str]] = field(default_factory=list)  # x, y, series, name
    truncated: int = 0  # categories left out of the chart
    empty: bool = False


def bar_chart(
    *, title: str, categories: list[str], series: list[tuple[str, list]], unit: str = ""
) -> Chart:
    """Horizontal grouped bars: one group per category, one bar per series, all on one scale
    from zero to the largest value. None (no figure) draws no bar and reads "–"."""
    shown = categories[:MAX_CATEGORIES]
    values = [value for _, column in series for value in column[: len(shown)] if value]
    top = max(values, default=0)
    group = len(series) * BAR_HEIGHT + ROW_GAP
    chart = Chart(
        title=title,
        width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        height=LEGEND_HEIGHT + max(1, len(shown)) * group + ROW_GAP,
        truncated=len(categories) - len(shown),
        empty=not values,
    )
    for number, (name, _) in enumerate(series):
        chart.legend.append((LABEL_WIDTH + number * 150, 4, number, name))
    for row, category in enumerate(shown):
        top_y = LEGEND_HEIGHT + row * group
        chart.texts.append(Text(LABEL_WIDTH - 8, top_y + group // 2, _clip(category), anchor="end"))
        for number, (name, column) in enumerate(series):
            value = column[row]
            y = top_y + number * BAR_HEIGHT
            width = round(PLOT_WIDTH * value / top) if value and top else 0
            reading = "–" if value is None else f"{value:g}{unit}"
            chart.bars.append(
                Bar(LABEL_WIDTH, y, width, BAR_HEIGHT - 2, number, f"{category}, {name}: {reading}")
            )
            chart.texts.append(
                Text(LABEL_WIDTH + width + 4, y + BAR_HEIGHT - 4, reading, css="chart-value")
            )
    return chart


def _clip(text: str, length: int = 28) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
