"""Units of indicator inputs and results, with pint.

Counts of things (people, households, cars) get their own dimensions, so that "tonnes per
person" and "tonnes per household" are different units and a formula mixing them up fails
when it is loaded, not silently when it runs.
"""

from __future__ import annotations

import threading
from functools import cache

import pint

from bylab.errors import InvalidInput

_COUNT_UNITS = (
    "person = [population] = inhabitant = persons",
    "household = [households] = households",
    "car = [vehicles] = cars",
)


_REGISTRY_LOCK = threading.Lock()


@cache
def unit_registry() -> pint.UnitRegistry:
    # Units of two registries do not combine: a worker's warm-up thread and a first request
    # must not each build one, so the building is serialised and the cache checked inside.
    with _REGISTRY_LOCK:
        return _built_registry()


@cache
def _built_registry() -> pint.UnitRegistry:
    registry = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    for definition in _COUNT_UNITS:
        registry.define(definition)
    return registry


def parse_unit(text: str, file: str | None = None, field: str | None = None) -> pint.Unit:
    """The unit named by ``text`` (pint syntax: ``t / person``, ``µg/m³``, ``percent``)."""
    try:
        return unit_registry().Unit(text)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, ValueError,
            AttributeError, TypeError) as error:
        raise InvalidInput("unknown unit '{unit}': {error}", file=file, field=field, unit=text,
                           error=error) from None


def conversion_factor(from_unit: str, to_unit: str, file: str | None = None,
                      field: str | None = None) -> float:
    """The number to multiply a value in ``from_unit`` by to express it in ``to_unit``."""
    source, target = parse_unit(from_unit, file, field), parse_unit(to_unit, file, field)
    try:
        return float(unit_registry().Quantity(1.0, source).to(target).magnitude)
    except pint.errors.DimensionalityError:
        raise InvalidInput("cannot convert '{from_unit}' to '{to_unit}' (different dimensions)",
                           file=file, field=field, from_unit=from_unit, to_unit=to_unit) from None


def quantity_of(unit_text: str) -> pint.Quantity:
    """One of ``unit_text``: what a formula is evaluated over to find its result unit."""
    return unit_registry().Quantity(1.0, parse_unit(unit_text))
