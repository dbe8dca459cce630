"""Checks of registry input shared by its actions and its import: place ids, KPI codes,
currencies, amounts and multilingual text lists. Each raises InvalidInput naming the field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import cache

from babel.core import get_global
from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.errors import InvalidInput
from bylab.indicators.kpis import u4ssc_kpis
from bylab.places.models import Place
from bylab.registry.taxonomy import LANGUAGES

_PLACE_ID = re.compile(r"^[A-Z]{2}(-[0-9A-Za-z]+)?$")
# Amounts to the cent below this are exact as JSON numbers (doubles) and fit Numeric(16, 2).
MAX_AMOUNT = Decimal("9000000000000.00")


def check_place_ids(session: Session, place_ids: Sequence[str],
                    field: str = "place_ids") -> list[str]:
    """The place ids, if each is well formed (``NO-1506``) and, when places of its country
    are loaded, one of them; InvalidInput naming the field otherwise."""
    for place_id in place_ids:
        if not _PLACE_ID.match(place_id):
            raise InvalidInput("'{place}' is not a place id like NO-1506", field=field,
                               place=place_id)
        country = place_id[:2]
        if (session.scalar(select(Place.id).where(Place.country == country).limit(1))
                and session.get(Place, place_id) is None):
            raise InvalidInput("no place '{place}'", field=field, place=place_id)
    return list(dict.fromkeys(place_ids))


def check_kpi_codes(codes: Sequence[str], field: str = "kpi_codes") -> list[str]:
    """The codes, if each is a U4SSC KPI code; InvalidInput naming the field otherwise."""
    known = {kpi.code for kpi in u4ssc_kpis()}
    for code in codes:
        if code not in known:
            raise InvalidInput("unknown KPI code '{code}' (U4SSC codes look like "
                               "'EC: I: WS: 1C')", field=field, code=code)
    return list(dict.fromkeys(codes))


@cache
def currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (CLDR's list, through Babel)."""
    by_territory = get_global("territory_currencies")
    return frozenset(code for spans in by_territory.values()
                     for code, _start, end, tender in spans if tender and end is None)


def check_currency(code: str, field: str = "currency") -> str:
    """The ISO 4217 code, upper-cased, if a currency in use has it."""
    cleaned = code.strip().upper()
    if cleaned not in currencies_in_use():
        raise InvalidInput("'{code}' is not an ISO 4217 currency code in use (e.g. NOK, "
                           "EUR, SEK)", field=field, code=code)
    return cleaned


def check_amount(value: Decimal | int | str | None, field: str) -> Decimal | None:
    """A non-negative amount with at most two decimals, or None when not given. Floats are
    refused: money is written as a decimal number."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise InvalidInput("give the amount as a decimal number, not a float", field=field)
    try:
        amount = Decimal(str(value).strip().replace(" ", ""))
    except InvalidOperation:
        raise InvalidInput("'{value}' is not an amount like 1500000.00", field=field,
                           value=value) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise InvalidInput("'{value}' is not an amount from 0 to {most}", field=field,
                           value=value, most=MAX_AMOUNT)
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("give the amount with at most two decimals", field=field)
    return amount.quantize(Decimal("0.01"))


def check_text_lists(texts: Mapping[str, Sequence[str]], field: str) -> dict[str, list[str]]:
    """Texts by language, each a list of lines: blank lines dropped, languages known."""
    cleaned: dict[str, list[str]] = {}
    for language, lines in texts.items():
        if language not in LANGUAGES:
            raise InvalidInput("unknown language '{language}'; use {languages}",
                               field=field, language=language, languages=", ".join(LANGUAGES))
        if isinstance(lines, str):
            raise InvalidInput("give a list of texts for each language", field=field)
        kept = [line.strip() for line in lines if line and line.strip()]
        if kept:
            cleaned[language] = kept
    return cleaned
