"""Scenario files: plain YAML, validated with pydantic; errors name the field.

    name: electrify-transport          # letters, digits and '-'
    title: Electrify transport
    places: [SE-0180]                  # bylab place ids
    horizon: 2045                      # last projected year
    start_year: 2024                   # levers ramp from zero in this year
    kpis: []                           # default: every KPI a lever acts on
    levers:
      ev_share_new_cars:
        path: {2030: 30, 2045: 60}     # value by year, linear in between, held after
        spread: 0.2                    # relative standard deviation of what is achieved

The packaged presets (``presets/*.yaml``) are annotated examples; ``docs/scenarios/`` holds
the same files.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bylab.errors import InvalidInput, NotFound, invalid_input_from
from bylab.scenarios.levers import KPIS_WITH_LEVERS, LEVERS_BY_KEY

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,98}$")
MIN_YEAR, MAX_YEAR = 1990, 2100
DEFAULT_START_YEAR = 2024


class LeverPlan(BaseModel):
    """A lever's value by year (linear in between, held after the last year, ramping from zero
    in the scenario's start year) and how uncertain its achievement is."""

    model_config = ConfigDict(extra="forbid")

    path: dict[int, float] = Field(default_factory=dict)
    spread: float = Field(default=0.2, ge=0, le=2,
                          description="relative standard deviation of the achieved value")

    @field_validator("path")
    @classmethod
    def _years_in_range(cls, path: dict[int, float]) -> dict[int, float]:
        for year in path:
            if not MIN_YEAR <= year <= MAX_YEAR:
                raise ValueError(f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
        return dict(sorted(path.items()))


class ScenarioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN.pattern)
    title: str = ""
    description: str = ""
    places: list[str] = Field(min_length=1, max_length=2000)
    horizon: int = Field(default=2050, ge=2000, le=MAX_YEAR)
    start_year: int = Field(default=DEFAULT_START_YEAR, ge=MIN_YEAR, le=MAX_YEAR)
    kpis: list[str] = Field(default_factory=list)
    uncertainty: bool = True  # False: every factor at its mode, levers exactly achieved
    levers: dict[str, LeverPlan] = Field(default_factory=dict)

    @field_validator("places")
    @classmethod
    def _place_ids(cls, places: list[str]) -> list[str]:
        return list(dict.fromkeys(place.strip().upper() for place in places if place.strip()))

    @field_validator("levers")
    @classmethod
    def _known_levers(cls, levers: dict[str, LeverPlan]) -> dict[str, LeverPlan]:
        for key, plan in levers.items():
            lever = LEVERS_BY_KEY.get(key)
            if lever is None:
                raise ValueError(f"unknown lever '{key}' (levers: {', '.join(LEVERS_BY_KEY)})")
            for year, value in plan.path.items():
                if not lever.minimum <= value <= lever.maximum:
                    raise ValueError(f"{key} in {year}: {value} is outside "
                                     f"{lever.minimum}–{lever.maximum} {lever.unit}")
        return levers

    @property
    def kpi_codes(self) -> list[str]:
        return self.kpis or list(KPIS_WITH_LEVERS)


def spec_from_dict(content: Any, file: str | None = None) -> ScenarioSpec:
    if not isinstance(content, dict):
        raise InvalidInput("expected a mapping at the top level", file=file)
    try:
        spec = ScenarioSpec(**content)
    except ValidationError as error:
        raise invalid_input_from(error, file=file) from None
    if spec.horizon <= spec.start_year:
        raise InvalidInput("the horizon {horizon} must be after the start year {start}",
                           file=file, field="horizon", horizon=spec.horizon,
                           start=spec.start_year)
    return spec


def spec_from_yaml(text: str, file: str | None = None) -> ScenarioSpec:
    """A scenario from YAML text; InvalidInput naming the file and field when it is bad."""
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput("not valid YAML: {problem}", file=file, problem=str(error)) from None
    return spec_from_dict(content, file)


def spec_load(path: Path) -> ScenarioSpec:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput("cannot read the scenario file: {problem}", file=str(path),
                           problem=error.strerror) from None
    return spec_from_yaml(text, path.name)


def spec_to_yaml(spec: ScenarioSpec) -> str:
    """The scenario as plain YAML, fields in the documented order."""
    content = spec.model_dump(mode="json")
    content["levers"] = {key: {"path": {int(year): value for year, value in plan["path"].items()},
                               "spread": plan["spread"]}
                         for key, plan in content["levers"].items()}
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True, default_flow_style=None)


# ---------------------------------------------------------------- presets

@cache
def preset_texts() -> dict[str, str]:
    """The annotated preset files by name (``presets/<name>.yaml``)."""
    folder = resources.files("bylab.scenarios") / "presets"
    return {item.name.removesuffix(".yaml"): item.read_text(encoding="utf-8")
            for item in sorted(folder.iterdir(), key=lambda entry: entry.name)
            if item.name.endswith(".yaml")}


def preset_show(name: str, places: list[str] | None = None) -> ScenarioSpec:
    """A preset scenario, for ``places`` when given."""
    text = preset_texts().get(name)
    if text is None:
        raise NotFound("no preset '{name}' (presets: {presets})", field="preset", name=name,
                       presets=", ".join(preset_texts()))
    spec = spec_from_yaml(text, f"{name}.yaml")
    return spec.model_copy(update={"places": places}) if places else spec
