"""Charts drawn on the server as SVG: the profile's sparklines (no script needed, so they print
and go into the PDF report), the SVG export of a time-series chart and of the overview's
choropleth map."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

import shapely
from shapely import affinity
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

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
               series: dict[str, dict[str, float]], number: Callable[[float], str],
               width: int = 720, height: int = 360) -> str:
    """A standalone SVG document: one line per named series over ``periods``, with axes,
    the first and last period, the value range (written by ``number``, in the reader's
    language) and a legend."""
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
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{number(low + span)}</text>',
             f'<text x="{left - 6}" y="{bottom}" text-anchor="end">{number(low)}</text>',
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


@dataclass(frozen=True)
class MapArea:
    """One area of a choropleth: its GeoJSON geometry (lon/lat), fill and accessible name."""

    geometry: dict[str, Any]
    colour: str
    label: str


NO_VALUE_COLOUR = "#ffffff"  # as the map page: an outline only


def choropleth(title: str, unit: str, areas: list[MapArea], legend: list[tuple[str, str]],
               note: str, width: int = 720, height: int = 680) -> str:
    """A standalone SVG document: the areas as filled paths (equirectangular, x scaled by the
    cosine of the mean latitude so the north keeps its shape), a title with the unit below
    it, and under the map a legend of (text, colour) rows and a note (the method)."""
    note_lines = textwrap.wrap(note, width // 7)
    legend_height = 24 + 18 * len(legend) + 15 * len(note_lines)
    box = (20.0, 56.0, width - 20.0, height - legend_height - 10.0)
    geometries = [shape(area.geometry) for area in areas]
    fitted = _fit(geometries, box)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             f"<title>{escape(title)}</title>",
             f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
             f'<text x="20" y="24" font-size="15" font-weight="bold">{escape(title)}</text>',
             f'<text x="20" y="42" fill="#4a5560">{escape(unit)}</text>']
    parts += [f'<path d="{_path_data(geometry)}" fill="{area.colour}" fill-rule="evenodd" '
              f'stroke="#4a5560" stroke-width="0.6"><title>{escape(area.label)}</title></path>'
              for area, geometry in zip(areas, fitted, strict=True)]
    top = height - legend_height + 6
    for index, (text, colour) in enumerate(legend):
        y = top + index * 18
        parts += [f'<rect x="20" y="{y}" width="14" height="12" fill="{colour}" '
                  f'stroke="#4a5560" stroke-width="0.5"/>',
                  f'<text x="40" y="{y + 10}">{escape(text)}</text>']
    top += 18 * len(legend) + 8
    parts += [f'<text x="20" y="{top + index * 15}" font-size="11" fill="#4a5560">'
              f"{escape(line)}</text>" for index, line in enumerate(note_lines)]
    parts.append("</svg>")
    return "".join(parts)


def _path_data(geometry: BaseGeometry) -> str:
    """SVG path data of a (multi)polygon: one closed subpath per ring."""
    rings = [ring for polygon in shapely.get_parts(geometry)
             for ring in (polygon.exterior, *polygon.interiors)]
    return " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in ring.coords[:-1]) + "Z"
                    for ring in rings)


def _fit(geometries: list[BaseGeometry], box: tuple[float, float, float, float]
         ) -> list[BaseGeometry]:
    """The lon/lat geometries moved and scaled into ``box`` (left, top, right, bottom), north
    up, keeping their proportions."""
    if not geometries:
        return []
    bounds = [geometry.bounds for geometry in geometries if not geometry.is_empty]
    west, south = min(b[0] for b in bounds), min(b[1] for b in bounds)
    east, north = max(b[2] for b in bounds), max(b[3] for b in bounds)
    stretch = math.cos(math.radians((south + north) / 2))
    left, top, right, bottom = box
    scale = min((right - left) / (((east - west) * stretch) or 1.0),
                (bottom - top) / ((north - south) or 1.0))
    x_scale, y_scale = scale * stretch, -scale
    x_offset = left - west * x_scale
    y_offset = top + north * scale
    return [affinity.affine_transform(geometry, [x_scale, 0, 0, y_scale, x_offset, y_offset])
            for geometry in geometries]
