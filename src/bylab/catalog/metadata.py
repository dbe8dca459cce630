"""The DCAT-AP metadata a publisher gives for a dataset, validated at the boundary."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, EmailStr, Field, field_validator

from bylab.catalog.models import Visibility

# EU data themes (http://publications.europa.eu/resource/authority/data-theme/<CODE>).
DATA_THEMES = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
# EU frequencies (http://publications.europa.eu/resource/authority/frequency/<CODE>).
FREQUENCIES = {"ANNUAL", "QUARTERLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "CONT",
               "IRREG", "NEVER", "UNKNOWN", "OTHER"}
# Licence ids (SPDX-style) and their canonical URIs.
LICENCES = {
    "CC-BY-4.0": "http://creativecommons.org/licenses/by/4.0/",
    "CC0-1.0": "http://creativecommons.org/publicdomain/zero/1.0/",
    "NLOD-2.0": "https://data.norge.no/nlod/no/2.0",
    "MIT": "https://opensource.org/licenses/MIT",
    "ODbL-1.0": "https://opendatacommons.org/licenses/odbl/1-0/",
    "other-open": "http://www.opendefinition.org/licenses/other-open",
    "notspecified": "",  # the source states no licence: say so rather than guess
}


def known_licence(licence_id: str) -> str:
    """``licence_id`` if it is one of ``LICENCES``; a ValueError naming the choices if not
    (for pydantic validators)."""
    if licence_id not in LICENCES:
        raise ValueError(f"unknown licence {licence_id!r}; use {sorted(LICENCES)}")
    return licence_id


class DatasetMetadata(BaseModel):
    """Everything about a dataset except its data. ``title`` and ``description`` are
    keyed by language code (en, nb, nn, sv, pl)."""

    name: str = Field(description="URL name: lowercase letters, digits, - and _")
    title: dict[str, str]
    description: dict[str, str] = Field(default_factory=dict)
    organisation: str = Field(description="Publishing organisation, name or id")
    visibility: Visibility = Visibility.PRIVATE
    shared_with: list[str] = Field(default_factory=list,
                                   description="Organisations or networks (names) for 'shared'")
    themes: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    licence_id: str = "CC-BY-4.0"
    spatial: list[str] = Field(default_factory=list, description="Place ids, e.g. NO-1506")
    temporal_start: date | None = None
    temporal_end: date | None = None
    frequency: str | None = None
    contact_name: str = ""
    contact_email: EmailStr | None = None
    landing_page: str | None = None
    source_note: str = ""

    @field_validator("title")
    @classmethod
    def _title_present(cls, title: dict[str, str]) -> dict[str, str]:
        if not any(text.strip() for text in title.values()):
            raise ValueError("a title is required in at least one language")
        return title

    @field_validator("themes")
    @classmethod
    def _known_themes(cls, themes: list[str]) -> list[str]:
        unknown = [theme for theme in themes if theme not in DATA_THEMES]
        if unknown:
            raise ValueError(f"unknown data theme(s) {unknown}; use {sorted(DATA_THEMES)}")
        return themes

    @field_validator("frequency")
    @classmethod
    def _known_frequency(cls, frequency: str | None) -> str | None:
        if frequency is not None and frequency not in FREQUENCIES:
            raise ValueError(f"unknown frequency {frequency!r}; use {sorted(FREQUENCIES)}")
        return frequency

    @field_validator("licence_id")
    @classmethod
    def _known_licence(cls, licence_id: str) -> str:
        return known_licence(licence_id)
