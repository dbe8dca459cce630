"""Declarative indicator files: definitions (one YAML per KPI, in ``definitions/``) and input
mappings (one YAML per country, in ``mappings/``). Both are reviewed like code; this module
reads and checks them, and nothing here runs a query.

A definition names its input variables with their units and a formula over them. A mapping
says, for one country, which catalogue dataset holds each input variable: which columns give
the place, the period and the value, which rows to keep, the value's unit and how rows are
aggregated to one value per place and period.
"""

from __future__ import annotations

import ast
import hashlib
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bylab.errors import InvalidInput, invalid_input_from
from bylab.indicators.units import conversion_factor, parse_unit, quantity_of

PACKAGE_DIR = Path(__file__).parent
DEFINITIONS_DIR = PACKAGE_DIR / "definitions"
MAPPINGS_DIR = PACKAGE_DIR / "mappings"


class Method(StrEnum):
    ITU_FORMULA = "itu_formula"  # ITU prints this numerator/denominator
    BYLAB_OPERATIONALISATION = "bylab_operationalisation"  # bylab's reading of a definition


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    NO_PREFERENCE = "no_preference"


class Aggregate(StrEnum):
    SINGLE = "single"  # exactly one row per place and period
    SUM = "sum"  # every row must have a value (a suppressed part makes the sum unknown)
    MEAN = "mean"  # enough values must be present (see ValueRule.expected_count)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(_Strict):
    unit: str
    description: str = ""
    # A count or amount of a whole place (people, tonnes, cars, km²): the value of a merged
    # place is the sum of its predecessors'. Shares, means and concentrations are not.
    additive: bool = False


class Definition(_Strict):
    code: str
    name: str = ""  # only for context indicators; U4SSC names come from the catalogue
    framework: Literal["U4SSC", "bylab context"] = "U4SSC"
    method: Method
    cites: str = Field(min_length=1)  # the ITU formula or definition text operationalised
    cites_source: str = Field(min_length=1)
    formula: str
    unit: str
    unit_label: str
    direction: Direction
    period: Literal["annual"] = "annual"
    inputs: dict[str, InputSpec]
    periods_from: str | None = None  # the input whose periods are the KPI's; default first
    notes: str = ""
    file: str = ""
    sha256: str = ""

    @model_validator(mode="after")
    def _check_formula(self) -> Definition:
        names = formula_names(self.formula)
        unknown = names - set(self.inputs)
        if unknown:
            raise ValueError(f"formula uses undeclared inputs: {', '.join(sorted(unknown))}")
        if self.periods_from and self.periods_from not in self.inputs:
            raise ValueError(f"periods_from '{self.periods_from}' is not an input")
        return self

    @property
    def period_input(self) -> str:
        return self.periods_from or next(iter(self.inputs))


class NameMatch(_Strict):
    """Match the column's text to place names (accents and case ignored)."""

    country: str
    level: str
    valid_on: date
    parent: str | None = None


class Lookup(_Strict):
    """Find the place code in another dataset: ``key`` column equals this column's value."""

    dataset: str
    key: str
    column: str


class PlaceRule(_Strict):
    column: str = ""
    template: str = "{}"  # place id from the code, e.g. "NO-{}"
    by_name: NameMatch | None = None
    lookup: Lookup | None = None


class PeriodRule(_Strict):
    column: str = ""
    kind: Literal["year", "year_month_text", "timestamp"] = "year"
    fixed: str | None = None  # the whole dataset is one period (e.g. "2022")

    @model_validator(mode="after")
    def _column_or_fixed(self) -> PeriodRule:
        if bool(self.column) == bool(self.fixed):
            raise ValueError("give exactly one of 'column' and 'fixed'")
        return self


class ValueRule(_Strict):
    column: str
    unit: str
    aggregate: Aggregate = Aggregate.SINGLE
    expected_count: int | Literal["hours_in_year", "months_in_year"] | None = None
    min_share: float = Field(default=1.0, gt=0, le=1)
    missing_markers: tuple[str, ...] = ("..", ".", ":", "-", "x")  # SSB, Eurostat, SCB style


class PlacesAttribute(_Strict):
    """A value read from the places table (e.g. area from the boundaries), not a dataset."""

    attribute: Literal["area_km2"]
    country: str
    note: str = ""


class SourceSpec(_Strict):
    dataset: str | None = None
    places: PlacesAttribute | None = None
    place: PlaceRule = PlaceRule()
    period: PeriodRule | None = None  # None: one value that holds for every period
    value: ValueRule
    filters: dict[str, str | list[str]] = Field(default_factory=dict)
    note: str = ""

    @model_validator(mode="after")
    def _one_origin(self) -> SourceSpec:
        if (self.dataset is None) == (self.places is None):
            raise ValueError("give exactly one of 'dataset' and 'places'")
        if self.dataset and not self.place.column:
            raise ValueError("a dataset source needs place.column")
        return self


class CountryMapping(_Strict):
    country: str
    inputs: dict[str, list[SourceSpec]]
    file: str = ""


# ---------------------------------------------------------------- formulas

_ALLOWED_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def _parse_formula(formula: str) -> ast.expr:
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as error:
        raise ValueError(f"formula is not an arithmetic expression: {error.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.USub, ast.Name,
                                 ast.Load, ast.Constant, *_ALLOWED_OPERATORS)):
            raise ValueError(f"formula may use only + - * /, numbers and input names, "
                             f"not {type(node).__name__}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise ValueError("formula constants must be numbers")
    return tree.body


def formula_names(formula: str) -> set[str]:
    return {node.id for node in ast.walk(_parse_formula(formula)) if isinstance(node, ast.Name)}


def formula_sql(formula: str, column_of: dict[str, str]) -> str:
    """The formula as a SQL expression; a division by zero gives NULL (NULLIF)."""

    def render(node: ast.expr) -> str:
        if isinstance(node, ast.Name):
            return column_of[node.id]
        if isinstance(node, ast.Constant):
            return repr(float(node.value))
        if isinstance(node, ast.UnaryOp):
            return f"(-{render(node.operand)})"
        assert isinstance(node, ast.BinOp)
        left, right = render(node.left), render(node.right)
        if isinstance(node.op, ast.Div):
            return f"({left} / NULLIF({right}, 0))"
        return f"({left} {_ALLOWED_OPERATORS[type(node.op)]} {right})"

    return render(_parse_formula(formula))


def formula_value(formula: str, values: dict[str, float]) -> float | None:
    """The formula over input values, as the SQL computes it (division by zero: None)."""

    def evaluate(node: ast.expr) -> float | None:
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.UnaryOp):
            operand = evaluate(node.operand)
            return None if operand is None else -operand
        assert isinstance(node, ast.BinOp)
        left, right = evaluate(node.left), evaluate(node.right)
        if left is None or right is None or (isinstance(node.op, ast.Div) and right == 0):
            return None
        operations = {ast.Add: lambda: left + right, ast.Sub: lambda: left - right,
                      ast.Mult: lambda: left * right, ast.Div: lambda: left / right}
        return operations[type(node.op)]()

    return evaluate(_parse_formula(formula))


def formula_unit_factor(definition: Definition) -> float:
    """The factor that turns the formula's value (inputs in their declared units) into the
    definition's unit; raises when the dimensions do not agree."""

    def evaluate(node: ast.expr):  # noqa: ANN202 (pint quantities)
        if isinstance(node, ast.Name):
            return quantity_of(definition.inputs[node.id].unit)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.UnaryOp):
            return -evaluate(node.operand)
        assert isinstance(node, ast.BinOp)
        left, right = evaluate(node.left), evaluate(node.right)
        operations = {ast.Add: lambda: left + right, ast.Sub: lambda: left - right,
                      ast.Mult: lambda: left * right, ast.Div: lambda: left / right}
        return operations[type(node.op)]()

    try:
        result = evaluate(_parse_formula(definition.formula))
        unit = str(getattr(result, "units", "dimensionless"))
        magnitude = float(getattr(result, "magnitude", result))
    except Exception as error:  # pint raises DimensionalityError for e.g. t + person
        raise InvalidInput("formula units do not combine: {error}", file=definition.file,
                           field="formula", error=error) from None
    return magnitude * conversion_factor(unit, definition.unit, definition.file, "unit")


# ---------------------------------------------------------------- loading

def _load_yaml(path: Path) -> tuple[dict, str]:  # type: ignore[type-arg]
    text = path.read_text(encoding="utf-8")
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput("not valid YAML: {error}", file=path.name, error=error) from None
    if not isinstance(content, dict):
        raise InvalidInput("expected a mapping at the top level", file=path.name)
    return content, hashlib.sha256(text.encode()).hexdigest()


def load_definition(path: Path) -> Definition:
    content, digest = _load_yaml(path)
    try:
        definition = Definition(**content, file=path.name, sha256=digest)
    except ValidationError as error:
        raise invalid_input_from(error, file=path.name) from None
    parse_unit(definition.unit, path.name, "unit")
    formula_unit_factor(definition)
    return definition


def load_mapping(path: Path) -> CountryMapping:
    content, _digest = _load_yaml(path)
    inputs = {name: sources if isinstance(sources, list) else [sources]
              for name, sources in (content.pop("inputs", None) or {}).items()}
    try:
        mapping = CountryMapping(**content, inputs=inputs, file=path.name)
    except ValidationError as error:
        raise invalid_input_from(error, file=path.name) from None
    for name, sources in mapping.inputs.items():
        for source in sources:
            parse_unit(source.value.unit, path.name, f"inputs.{name}.value.unit")
    return mapping


def load_definitions(folder: Path = DEFINITIONS_DIR) -> dict[str, Definition]:
    definitions: dict[str, Definition] = {}
    for path in sorted(folder.glob("*.yaml")):
        definition = load_definition(path)
        if definition.code in definitions:
            raise InvalidInput("KPI '{code}' is defined twice", file=path.name,
                               field="code", code=definition.code)
        definitions[definition.code] = definition
    return definitions


def load_mappings(folder: Path = MAPPINGS_DIR) -> dict[str, CountryMapping]:
    mappings = [load_mapping(path) for path in sorted(folder.glob("*.yaml"))]
    return {mapping.country: mapping for mapping in mappings}


@cache
def bundled_definitions() -> dict[str, Definition]:
    return load_definitions()


@cache
def bundled_mappings() -> dict[str, CountryMapping]:
    return load_mappings()


def check_input_units(definition: Definition, mapping: CountryMapping) -> None:
    """Every mapped input's unit converts to the unit the definition expects."""
    for name, spec in definition.inputs.items():
        for source in mapping.inputs.get(name, []):
            conversion_factor(source.value.unit, spec.unit, mapping.file,
                              f"inputs.{name}.value.unit")
