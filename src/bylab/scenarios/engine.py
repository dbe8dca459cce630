"""The Monte Carlo projection, vectorised over places × years × draws with NumPy.

Baseline of a series (one KPI of one place): the least-squares line through its last
``TREND_POINTS`` annual values (the same line ``bylab.indicators.targets`` projects). Its
uncertainty in each draw: a level offset ~ N(0, σ/√n), a slope offset ~ N(0, se(slope)) and a
yearly deviation ~ N(0, σ), where σ is the residual standard deviation of the fit. With fewer
than three points σ is unknown: the slope's standard deviation is then half the slope
(assumption) and there is no yearly deviation; a single point gives a flat line.

Scenario value in a draw: ``baseline × (1 + R) + A`` clipped to the KPI's range, where R and A
sum the relative and absolute lever effects (``bylab.scenarios.levers``): coefficient (product
of factors, each drawn from its triangular distribution) × achieved share of the lever's plan
(~ N(1, spread), at least 0) × exposure in the year. With ``uncertainty`` off every factor is at
its mode, every plan is exactly achieved and the baseline is the fitted line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bylab.indicators.targets import TREND_POINTS
from bylab.scenarios.levers import KPI_RANGE, LEVERS_BY_KEY, Effect, EffectKind, Exposure
from bylab.scenarios.spec import LeverPlan, ScenarioSpec

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_NAMES = ("p05", "p25", "p50", "p75", "p95")
CHUNK_CELLS = 250_000  # places × years × draws per block: keeps blocks in cache-sized memory
SPARSE_SLOPE_SD = 0.5  # slope sd as a share of the slope with fewer than three points


@dataclass(frozen=True)
class Trends:
    """The fitted baseline of S series, as arrays of length S."""

    latest_year: np.ndarray
    centre_year: np.ndarray
    level: np.ndarray  # the line's value at the centre year
    slope: np.ndarray
    residual_sd: np.ndarray
    level_sd: np.ndarray
    slope_sd: np.ndarray

    def line(self, years: np.ndarray) -> np.ndarray:
        """The fitted lines in ``years``: shape (S, Y)."""
        return self.level[:, None] + self.slope[:, None] * (years[None, :]
                                                            - self.centre_year[:, None])


def fit_trend(points: Sequence[tuple[int, float]]) -> tuple[float, ...]:
    """Latest year, centre year, level, slope, residual sd, level sd and slope sd of the
    least-squares line through the last TREND_POINTS ``(year, value)`` points."""
    recent = sorted(points)[-TREND_POINTS:]
    years = np.array([year for year, _value in recent], dtype=float)
    values = np.array([value for _year, value in recent], dtype=float)
    centre, level = float(years.mean()), float(values.mean())
    spread = float(((years - centre) ** 2).sum())
    if spread == 0:
        return years[-1], centre, level, 0.0, 0.0, 0.0, 0.0
    slope = float(((years - centre) * (values - level)).sum() / spread)
    if len(recent) < 3:
        return years[-1], centre, level, slope, 0.0, 0.0, abs(slope) * SPARSE_SLOPE_SD
    residuals = values - (level + slope * (years - centre))
    sigma = math.sqrt(float((residuals ** 2).sum()) / (len(recent) - 2))
    return years[-1], centre, level, slope, sigma, sigma / math.sqrt(len(recent)), \
        sigma / math.sqrt(spread)


def fit_trends(histories: Sequence[Sequence[tuple[int, float]]]) -> Trends:
    fitted = np.array([fit_trend(points) for points in histories], dtype=float).reshape(-1, 7)
    return Trends(*(fitted[:, column] for column in range(7)))


# ---------------------------------------------------------------- lever effects

def lever_values(plan: LeverPlan, start_year: int, years: np.ndarray) -> np.ndarray:
    """The lever's value in each year: zero up to the start year, linear between the points
    of its path, held after the last one."""
    points = {start_year: 0.0, **{year: value for year, value in plan.path.items()
                                  if year > start_year}}
    known_years = np.array(sorted(points), dtype=float)
    values = np.interp(years, known_years, [points[int(year)] for year in known_years])
    return np.where(years <= start_year, 0.0, values)


def lever_exposure(plan: LeverPlan, start_year: int, years: np.ndarray,
                   exposure: Exposure) -> np.ndarray:
    """The lever's exposure in each year: its value (level) or the running sum of its yearly
    values since the start year (cumulative)."""
    if exposure == Exposure.LEVEL:
        return lever_values(plan, start_year, years)
    grid = np.arange(start_year, max(int(years.max(initial=start_year)), start_year) + 1)
    running = np.cumsum(lever_values(plan, start_year, grid))
    return running[np.clip(years - start_year, 0, None).astype(int)]


def achieved_shares(spec: ScenarioSpec, draws: int, rng: np.random.Generator
                    ) -> dict[str, np.ndarray]:
    """The achieved share of each lever's plan in each draw (one draw per lever, shared by
    all its effects and years)."""
    shares = {}
    for key, plan in spec.levers.items():
        if spec.uncertainty and plan.spread > 0:
            shares[key] = np.maximum(rng.normal(1.0, plan.spread, draws), 0.0)
        else:
            shares[key] = np.ones(draws)
    return shares


def coefficient_draws(effect: Effect, draws: int, rng: np.random.Generator | None
                      ) -> np.ndarray:
    """The effect's coefficient in each draw: the product of its factors, each drawn from
    its triangular distribution (at its mode without ``rng``)."""
    coefficient = np.full(draws, effect.sign)
    for factor in effect.factors:
        if rng is None or factor.low == factor.high:
            coefficient *= factor.mode
        else:
            coefficient *= rng.triangular(factor.low, factor.mode, factor.high, draws)
    return coefficient


def lever_effects(spec: ScenarioSpec, kpi_code: str, years: np.ndarray,
                  shares: dict[str, np.ndarray], draws: int, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Relative (R) and absolute (A) lever effects on the KPI, each of shape (years, draws)."""
    totals = {EffectKind.RELATIVE: np.zeros((len(years), draws)),
              EffectKind.ABSOLUTE: np.zeros((len(years), draws))}
    for key, plan in spec.levers.items():
        for effect in LEVERS_BY_KEY[key].effects:
            if effect.kpi_code != kpi_code:
                continue
            coefficient = coefficient_draws(effect, draws, rng if spec.uncertainty else None)
            exposure = lever_exposure(plan, spec.start_year, years, effect.exposure)
            totals[effect.kind] += exposure[:, None] * (coefficient * shares[key])[None, :]
    return totals[EffectKind.RELATIVE], totals[EffectKind.ABSOLUTE]


# ---------------------------------------------------------------- projection

@dataclass(frozen=True)
class Probe:
    """Ask for the share of draws that reach ``target`` in year index ``year_index``."""

    series_index: int
    year_index: int
    target: float
    higher_is_better: bool


@dataclass(frozen=True)
class Projection:
    years: np.ndarray  # (Y,)
    quantiles: np.ndarray  # (S, Y, 5) at QUANTILES
    mean: np.ndarray  # (S, Y)
    probabilities: list[float]  # one per probe


def project(trends: Trends, years: np.ndarray, relative: np.ndarray, absolute: np.ndarray,
            kpi_code: str, draws: int, rng: np.random.Generator, uncertainty: bool = True,
            probes: Sequence[Probe] = ()) -> Projection:
    """Project S series over ``years`` in ``draws`` draws, in blocks of places."""
    count = len(trends.level)
    lowest, highest = KPI_RANGE.get(kpi_code, (-math.inf, math.inf))
    quantiles = np.empty((count, len(years), len(QUANTILES)))
    mean = np.empty((count, len(years)))
    block = max(1, CHUNK_CELLS // max(1, len(years) * draws))
    by_series: dict[int, list[int]] = {}
    for number, probe in enumerate(probes):
        by_series.setdefault(probe.series_index, []).append(number)
    probabilities = [math.nan] * len(probes)
    for start in range(0, count, block):
        chosen = slice(start, min(start + block, count))
        values = _block_values(trends, chosen, years, relative, absolute, draws, rng,
                               uncertainty)
        np.clip(values, lowest, highest, out=values)
        values.sort(axis=2)  # NumPy's SIMD sort beats np.quantile's partitioning here
        quantiles[chosen] = sorted_quantiles(values)
        mean[chosen] = values.mean(axis=2)
        for series_index in range(chosen.start, chosen.stop):
            for number in by_series.get(series_index, ()):
                probe = probes[number]
                probabilities[number] = reach_share(values[series_index - start,
                                                           probe.year_index],
                                                    probe.target, probe.higher_is_better)
    return Projection(years, quantiles, mean, probabilities)


def _block_values(trends: Trends, chosen: slice, years: np.ndarray, relative: np.ndarray,
                  absolute: np.ndarray, draws: int, rng: np.random.Generator,
                  uncertainty: bool) -> np.ndarray:
    """Scenario values of a block of series: shape (block, Y, draws)."""
    offsets = years[None, :] - trends.centre_year[chosen, None]  # (B, Y)
    baseline = (trends.level[chosen, None] + trends.slope[chosen, None] * offsets)[:, :, None]
    size = offsets.shape[0]
    if uncertainty:
        level_shift = rng.standard_normal((size, 1, draws)) * trends.level_sd[chosen, None, None]
        slope_shift = rng.standard_normal((size, 1, draws)) * trends.slope_sd[chosen, None, None]
        yearly = rng.standard_normal((size, len(years), draws))
        yearly *= trends.residual_sd[chosen, None, None]
        yearly += level_shift
        yearly += slope_shift * offsets[:, :, None]
        yearly += baseline
        yearly *= 1.0 + relative[None, :, :]  # in place: no block-sized temporaries
        yearly += absolute[None, :, :]
        return yearly
    return baseline * (1.0 + relative[None, :, :]) + absolute[None, :, :]


def sorted_quantiles(ordered: np.ndarray) -> np.ndarray:
    """QUANTILES of values sorted along the last axis, interpolated linearly between order
    statistics as ``np.quantile``'s default method does: shape (..., 5)."""
    positions = np.array(QUANTILES) * (ordered.shape[-1] - 1)
    below = np.floor(positions).astype(int)
    above = np.minimum(below + 1, ordered.shape[-1] - 1)
    weight = positions - below
    return ordered[..., below] * (1 - weight) + ordered[..., above] * weight


def reach_share(outcome: np.ndarray, target: float, higher_is_better: bool) -> float:
    """The share of draws that reach the target."""
    reached = outcome >= target if higher_is_better else outcome <= target
    return float(reached.mean())
