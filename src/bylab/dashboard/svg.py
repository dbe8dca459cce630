"""Charts drawn on the server as SVG: the profile's sparklines (no script needed, so they print
and go into the PDF report) and the SVG export of a time-series chart."""

from __future__ import annotations

from html import escape

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
SERIES_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")


def _scale(values: list[float], low_px: float, high_px: float) -> list[float]:
    low, high = min(values), max(values)
    span = high - low or 1.0
    return [high_px - (value - low) / span * (high_px - low_px) for value in values]


def sparkline(points: list[tuple[str, float]], label: str, width: int = 120,
              height: int = 28) -> str:
    """A small line of the values in period order with a dot on the latest; ``label`` is
    its accessible name (the numbers are in the table beside it)."""
    if not points:
        return ""
    values = [value for _period, value in points]
    xs = _x_positions(len(values), 3, width - 3)
    ys = _scale(values, 3, height - 3)
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return (f'<svg class="sparkline" role="img" aria-label="{escape(label)}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<polyline fill="none" stroke="#0b5cad" stroke-width="1.5" points="{path}"/>'
            f'<circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="2.5" fill="#0b5cad"/></svg>')


def _x_positions(count: int, left: float, right: float) -> list[float]:
    if count == 1:
        return [(left + right) / 2]
    return [left + index * (right - left) / (count - 1) for index in range(count)]


def line_chart(title: str, unit: str, periods: list[str],
               series: dict[str, dict[str, float]], width: int = 720,
               height: int = 360) -> str:
    """A standalone SVG document: one line per named series over ``periods``, with axes,
    the first and last period, the value range and a legend."""
    left, right, top, bottom = 70.0, width - 20.0, 40.0, height - 70.0
    values = [value for points in series.values() for value in points.values()]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    span = high - low or 1.0
    xs = dict(zip(periods, _x_positions(len(periods), left, right), strict=True))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             f"<title>{escape(title)}</title>",
             f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
             f'<text x="{left}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#4a5560"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#4a5560"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{low + span:,.4g}</text>',
             f'<text x="{left - 6}" y="{bottom}" text-anchor="end">{low:,.4g}</text>',
             f'<text x="{left}" y="{top - 6}" fill="#4a5560">{escape(unit)}</text>']
    if periods:
        parts += [f'<text x="{left}" y="{bottom + 18}">{escape(periods[0])}</text>',
                  f'<text x="{right}" y="{bottom + 18}" text-anchor="end">'
                  f"{escape(periods[-1])}</text>"]
    for index, (name, points) in enumerate(series.items()):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        coordinates = [(xs[period], bottom - (value - low) / span * (bottom - top))
                       for period, value in sorted(points.items()) if period in xs]
        drawn = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{drawn}"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>'
                  for x, y in coordinates]
        legend_x = left + (index % 3) * 200
        legend_y = bottom + 38 + (index // 3) * 16
        parts += [f'<rect x="{legend_x}" y="{legend_y - 9}" width="12" height="10" '
                  f'fill="{colour}"/>',
                  f'<text x="{legend_x + 16}" y="{legend_y}">{escape(name)}</text>']
    parts.append("</svg>")
    return "".join(parts)
