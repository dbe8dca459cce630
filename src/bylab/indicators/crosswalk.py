"""The crosswalk of national indicator systems (Kolada, KOSTRA, GUS BDL) to U4SSC KPIs and
ISO 37120, from ``crosswalk.yaml`` (bylab's own mapping, unverified; see the file), and the
comparability of a KPI across countries that follows from it.

Across countries a KPI is as comparable as its weakest country: ``identical`` only when every
country's national indicator is identical to the KPI, ``not_comparable`` when any is not,
``unknown`` when a country has no entry (then nothing vouches for it), else
``comparable_with_caveat``. Within one country there is nothing to reconcile.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bylab.errors import InvalidInput, invalid_input_from
from bylab.indicators.actions import kpi_show

CROSSWALK_FILE = Path(__file__).parent / "crosswalk.yaml"
STATUS = "bylab's own mapping, unverified (not published by a statistics office or ITU)"


class Comparability(StrEnum):
    IDENTICAL = "identical"
    CAVEAT = "comparable_with_caveat"
    NOT_COMPARABLE = "not_comparable"
    UNKNOWN = "unknown"


SYSTEM_COUNTRY = {"kolada": "SE", "kostra": "NO", "gus_bdl": "PL"}
_ORDER = [Comparability.IDENTICAL, Comparability.CAVEAT, Comparability.UNKNOWN,
          Comparability.NOT_COMPARABLE]


class CrosswalkEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str
    id: str
    name: str
    unit: str
    kpi: str
    iso37120: str = ""
    comparability: Comparability
    caveat: str = ""
    justification: str
    source: str = ""  # where the id, name and unit were seen (repository @ commit, or page)

    @property
    def country(self) -> str:
        return SYSTEM_COUNTRY[self.system]


def load_crosswalk(path: Path = CROSSWALK_FILE) -> tuple[CrosswalkEntry, ...]:
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = []
    for row, item in enumerate(content.get("entries", []), start=1):
        try:
            entry = CrosswalkEntry.model_validate(item)
        except ValidationError as error:
            raise invalid_input_from(error, file=path.name) from None
        if entry.system not in SYSTEM_COUNTRY:
            raise InvalidInput("unknown system '{system}'", file=path.name, row=row,
                               field="system", system=entry.system)
        if entry.comparability == Comparability.UNKNOWN:
            raise InvalidInput("an entry must state its comparability", file=path.name, row=row,
                               field="comparability")
        kpi_show(entry.kpi)  # NotFound for a code outside the catalogue
        entries.append(entry)
    return tuple(entries)


@cache
def bundled_crosswalk() -> tuple[CrosswalkEntry, ...]:
    return load_crosswalk()


def crosswalk_list(kpi: str | None = None, system: str | None = None
                   ) -> list[CrosswalkEntry]:
    entries = bundled_crosswalk()
    if kpi:
        code = kpi_show(kpi).kpi.code
        entries = tuple(entry for entry in entries if entry.kpi == code)
    if system:
        entries = tuple(entry for entry in entries if entry.system == system.strip().lower())
    return list(entries)


@dataclass(frozen=True)
class CrossCountry:
    level: Comparability
    message: str


def cross_country(kpi_code: str, countries: set[str],
                  entries: tuple[CrosswalkEntry, ...] | None = None) -> CrossCountry | None:
    """How comparable ``kpi_code`` is across ``countries`` (None within one country), by
    ``entries`` (the bundled crosswalk by default)."""
    if len(countries) < 2:
        return None
    levels = {}
    for country in sorted(countries):
        found = [entry.comparability for entry in entries or bundled_crosswalk()
                 if entry.kpi == kpi_code and entry.country == country]
        levels[country] = (min(found, key=_ORDER.index) if found else Comparability.UNKNOWN)
    worst = max(levels.values(), key=_ORDER.index)
    detail = ", ".join(f"{country}: {level.value}" for country, level in levels.items())
    return CrossCountry(worst, f"{kpi_code} across {', '.join(sorted(countries))} is "
                               f"{worst.value} ({detail}; {STATUS})")
