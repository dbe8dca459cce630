"""Fan charts as inline SVG geometry: the history, the 90 % and 50 % bands, the median, and
the baseline median to compare with. The template ``scenarios/chart.html`` draws it with
the table of the same numbers beside it."""

from __future__ import annotations

from dataclasses import dataclass

from bylab.scenarios.actions import ResultRow

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class FanChart:
    place_code: str
    kpi_code: str
    unit: str
    rows: list[ResultRow]
    history: list[tuple[int, float]]
    band90: str  # SVG polygon points
    band50: str
    median: str  # SVG polyline points
    history_line: str
    baseline_median: str  # empty when there is no baseline to compare with
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT


def fan_chart(place_code: str, kpi_code: str, rows: list[ResultRow],
              history: list[tuple[int, float]], baseline: list[ResultRow] | None = None
              ) -> FanChart:
    """The geometry of one place's KPI: ``rows`` in year order, with ``history`` before."""
    baseline = baseline or []
    years = [year for year, _value in history] + [row.year for row in rows]
    values = ([value for _year, value in history] + [row.p05 for row in rows]
              + [row.p95 for row in rows] + [row.p50 for row in baseline])
    low, high = _padded(min(values), max(values))
    first, last = min(years), max(max(years), min(years) + 1)

    def x(year: float) -> float:
        return LEFT + (year - first) / (last - first) * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM)

    def line(points: list[tuple[float, float]]) -> str:
        return " ".join(f"{x(year):.1f},{y(value):.1f}" for year, value in points)

    def band(lower: str, upper: str) -> str:
        return line([(row.year, getattr(row, upper)) for row in rows]
                    + [(row.year, getattr(row, lower)) for row in reversed(rows)])

    anchor = history[-1:]  # the bands start at the latest real value
    return FanChart(
        place_code, kpi_code, rows[0].unit if rows else "", rows, history,
        band("p05", "p95"), band("p25", "p75"),
        line(anchor + [(row.year, row.p50) for row in rows]), line(history),
        line(anchor + [(row.year, row.p50) for row in baseline]),
        [Tick(x(year), str(year)) for year in _year_ticks(first, last)],
        [Tick(y(value), f"{value:.3g}") for value in _value_ticks(low, high)])


def _padded(low: float, high: float) -> tuple[float, float]:
    margin = (high - low) * 0.05 or abs(high) * 0.05 or 1.0
    return (low - margin if low < 0 or low - margin >= 0 else 0.0), high + margin


def _year_ticks(first: int, last: int) -> list[int]:
    step = max(1, round((last - first) / 6 / 5) * 5) if last - first > 10 else 2
    return list(range(first + (-first) % step, last + 1, step))


def _value_ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = (high - low) / (count - 1)
    return [low + step * number for number in range(count)]
