"""The KPI catalogue: the 91 U4SSC KPIs and the ISO 37120:2014 list, read from the bundled CSV
files in ``catalogue/`` (see its SOURCES.md).

It is static reference data reviewed like code, so it is read from the files into memory once
per process rather than copied into the database: there is no write path, every instance has
the same list, and a change to the list is a reviewed change to the files, never a migration.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

CATALOGUE_DIR = Path(__file__).parent / "catalogue"
LANGUAGES = ("en", "nb", "sv", "pl")
U4SSC = "U4SSC"
CONTEXT = "bylab context"  # indicators bylab computes beside U4SSC (e.g. population density)
DIMENSIONS = ("Economy", "Environment", "Society and Culture")
NAME_FROM_CATALOGUE = "catalogue"  # the sourced English name
NAME_BYLAB_TRANSLATION = "bylab_translation"  # bylab's own, unverified (see SOURCES.md)
NAME_ENGLISH_FALLBACK = "english_fallback"  # no name in that language: English is shown


@dataclass(frozen=True)
class IsoCandidate:
    """An ISO 37120:2014 indicator paired with a KPI by name similarity: unverified."""

    number: str
    name: str
    basis: str
    verified: bool = False


@dataclass(frozen=True)
class Kpi:
    code: str
    names: dict[str, str]  # by language; only English is sourced, nb/sv/pl are bylab's
    framework: str
    dimension: str
    subdimension: str
    category: str
    kind: str  # Core, Advanced, or "" where the sources disagree
    unit_text: str
    formula_text: str  # ITU's paraphrased methodology, a definition, or ""
    sdg: str
    iso37120_ref: str  # only where an ITU page itself cites ISO 37120
    source: str
    iso_candidates: tuple[IsoCandidate, ...] = field(default=())
    translated_languages: frozenset[str] = frozenset()  # names that are bylab's translation

    def name(self, language: str = "en") -> str:
        """The name in ``language``, falling back to English (the only sourced language)."""
        return self.names.get(language) or self.names["en"]

    def name_is_translation(self, language: str) -> bool:
        """``name(language)`` is bylab's own translation, not a sourced name."""
        return language in self.translated_languages

    def name_source(self, language: str) -> str:
        """Where ``name(language)`` comes from: one of the ``NAME_*`` constants."""
        if self.name_is_translation(language):
            return NAME_BYLAB_TRANSLATION
        return NAME_FROM_CATALOGUE if self.names.get(language) else NAME_ENGLISH_FALLBACK

    @property
    def has_itu_formula(self) -> bool:
        """ITU prints a numerator/denominator (or a qualitative check) for this KPI."""
        return self.formula_text.startswith(("Numerator", "Qualitative"))

    @property
    def sdg_is_ks_mapping(self) -> bool:
        """The SDG links are KS's own mapping, not ITU's reference."""
        return self.sdg.startswith("KS mapping")


@dataclass(frozen=True)
class IsoIndicator:
    number: str
    theme: str
    name: str
    kind: str
    unit: str
    edition: str


def _rows(filename: str) -> list[dict[str, str]]:
    with open(CATALOGUE_DIR / filename, encoding="utf-8", newline="") as csv_file:
        return list(csv.DictReader(csv_file))


@cache
def iso_candidates_by_kpi() -> dict[str, tuple[IsoCandidate, ...]]:
    grouped: dict[str, list[IsoCandidate]] = {}
    for row in _rows("u4ssc_iso37120_candidate_matches.csv"):
        candidate = IsoCandidate(row["iso37120_2014_number"], row["iso37120_2014_name"],
                                 row["match_basis"])
        grouped.setdefault(row["u4ssc_code"], []).append(candidate)
    return {code: tuple(candidates) for code, candidates in grouped.items()}


@cache
def bylab_name_translations() -> dict[str, dict[str, str]]:
    """bylab's own nb/sv/pl KPI names by code (unverified, see SOURCES.md); empty cells left out."""
    return {row["code"]: {language: row[language] for language in LANGUAGES[1:]
                          if row[language]}
            for row in _rows("u4ssc_names_bylab_translations.csv")}


@cache
def _bylab_label_translations() -> dict[str, dict[str, str]]:
    return {row["en"]: {language: row[language] for language in LANGUAGES if row[language]}
            for row in _rows("u4ssc_labels_bylab_translations.csv")}


def classification_label(english: str, language: str) -> str:
    """A dimension, sub-dimension or category label in ``language`` (bylab's translation),
    falling back to the English label of the catalogue."""
    return _bylab_label_translations().get(english, {}).get(language) or english


def _names(row: dict[str, str]) -> dict[str, str]:
    return {"en": row["name"], "nb": "", "sv": "", "pl": "",
            **bylab_name_translations().get(row["code"], {})}


@cache
def u4ssc_kpis() -> tuple[Kpi, ...]:
    """The 91 U4SSC KPIs in catalogue order."""
    candidates = iso_candidates_by_kpi()
    return tuple(
        Kpi(code=row["code"], names=_names(row),
            translated_languages=frozenset(bylab_name_translations().get(row["code"], {})),
            framework=U4SSC, dimension=row["dimension"], subdimension=row["subdimension"],
            category=row["category"], kind=row["type"], unit_text=row["unit"],
            formula_text=row["formula"], sdg=row["sdg"], iso37120_ref=row["iso37120_ref"],
            source=row["source"], iso_candidates=candidates.get(row["code"], ()))
        for row in _rows("u4ssc_kpis.csv")
    )


@cache
def iso37120_indicators() -> tuple[IsoIndicator, ...]:
    return tuple(IsoIndicator(row["number"], row["theme"], row["name"], row["type"],
                              row["unit"], row["edition"])
                 for row in _rows("iso37120_indicators.csv"))


def context_kpi(code: str, name: str, definition_text: str, unit_text: str) -> Kpi:
    """A bylab context indicator (not one of the 91), described by its definition file."""
    return Kpi(code=code, names={"en": name, "nb": "", "sv": "", "pl": ""}, framework=CONTEXT,
               dimension="Context", subdimension="", category="Context", kind="",
               unit_text=unit_text, formula_text=definition_text, sdg="", iso37120_ref="",
               source="bylab")
