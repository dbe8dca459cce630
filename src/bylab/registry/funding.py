"""A project's budget and its funding lines: who funds it (an organisation of the instance,
or a funder named in words), under which programme, how much in which currency, in which
years. Sums are kept per currency: amounts in different currencies are never added."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bylab.auth.actions import organisation_get
from bylab.auth.models import Organisation
from bylab.errors import InvalidInput
from bylab.registry.checks import check_amount, check_currency
from bylab.registry.models import FundingLine, Project

EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217


@dataclass(frozen=True)
class FundingInput:
    funder_organisation: str = ""  # name or id of an organisation of the instance
    funder_name: str = ""  # a funder that is not one
    programme: str = ""
    amount: Decimal | None = None
    currency: str = ""
    year_from: int | None = None
    year_to: int | None = None


@dataclass(frozen=True)
class FundingView:
    line: FundingLine
    funder: str  # the organisation's title, or the name given
    funder_organisation: str  # the organisation's name, "" for a named funder


def check_money(amount: Decimal | int | str | None, currency: str, amount_field: str,
                currency_field: str) -> Money | None:
    """An amount with its currency, or None when no amount is given; a currency is needed
    with an amount."""
    checked = check_amount(amount, amount_field)
    if checked is None:
        if currency.strip():
            raise InvalidInput("give the amount the currency is for", field=amount_field)
        return None
    if not currency.strip():
        raise InvalidInput("give the currency of the amount (ISO 4217, e.g. NOK)",
                           field=currency_field)
    return Money(checked, check_currency(currency, currency_field))


def _years(line: FundingInput) -> tuple[int | None, int | None]:
    for year in (line.year_from, line.year_to):
        if year is not None and not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise InvalidInput("{year} is not a year", field="years", year=year)
    if line.year_from and line.year_to and line.year_to < line.year_from:
        raise InvalidInput("the last year comes before the first", field="years")
    return line.year_from, line.year_to


def funding_line_of(session: Session, project: Project, line: FundingInput) -> FundingLine:
    """A checked funding line of the project (not yet added to the session)."""
    if bool(line.funder_organisation.strip()) == bool(line.funder_name.strip()):
        raise InvalidInput("name the funder: an organisation of bylab or a funder's name, "
                           "one of the two", field="funder")
    funder_id = (organisation_get(session, line.funder_organisation.strip()).id
                 if line.funder_organisation.strip() else None)
    money = check_money(line.amount, line.currency, "amount", "currency")
    year_from, year_to = _years(line)
    return FundingLine(project_id=project.id, funder_organisation_id=funder_id,
                       funder_name=line.funder_name.strip(), programme=line.programme.strip(),
                       amount=money.amount if money else None,
                       currency=money.currency if money else "",
                       year_from=year_from, year_to=year_to)


def funding_replace(session: Session, project: Project, lines: Sequence[FundingInput]) -> None:
    """Replace the project's funding lines by these (checked first: all or none)."""
    checked = [funding_line_of(session, project, line) for line in lines]
    session.execute(delete(FundingLine).where(FundingLine.project_id == project.id))
    session.add_all(checked)


def funding_of(session: Session, project_id: str) -> list[FundingView]:
    """The project's funding lines, in the order they were given."""
    rows = session.execute(
        select(FundingLine, Organisation.name, Organisation.title)
        .outerjoin(Organisation, Organisation.id == FundingLine.funder_organisation_id)
        .where(FundingLine.project_id == project_id).order_by(FundingLine.id))
    return [FundingView(line, title or line.funder_name, name or "")
            for line, name, title in rows]


def totals_by_currency(lines: Iterable[FundingLine]) -> list[Money]:
    """The funding's sum in each currency (by currency code); lines without an amount do
    not count."""
    sums: dict[str, Decimal] = {}
    for line in lines:
        if line.amount is not None:
            sums[line.currency] = sums.get(line.currency, Decimal("0")) + line.amount
    return [Money(sums[currency], currency) for currency in sorted(sums)]
