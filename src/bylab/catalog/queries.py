"""Read actions on the catalogue: show and search datasets the actor may see."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session, selectinload

from bylab.auth.models import Organisation
from bylab.catalog.access import visibility_clause
from bylab.catalog.models import Dataset, DatasetVersion
from bylab.core import Context
from bylab.errors import InvalidInput, NotFound

MAX_ROWS = 1000


class DatasetSort(StrEnum):
    MODIFIED_DESC = "metadata_modified desc"
    MODIFIED_ASC = "metadata_modified asc"
    NAME_ASC = "name asc"
    NAME_DESC = "name desc"
    ID_ASC = "id asc"
    ID_DESC = "id desc"


_SORT_COLUMNS = {
    DatasetSort.MODIFIED_DESC: Dataset.modified.desc(),
    DatasetSort.MODIFIED_ASC: Dataset.modified.asc(),
    DatasetSort.NAME_ASC: Dataset.name.asc(),
    DatasetSort.NAME_DESC: Dataset.name.desc(),
    DatasetSort.ID_ASC: Dataset.id.asc(),
    DatasetSort.ID_DESC: Dataset.id.desc(),
}


@dataclass(frozen=True)
class DatasetQuery:
    text: str = ""
    organisation: str | None = None  # name or id
    theme: str | None = None
    keyword: str | None = None
    place_id: str | None = None
    modified_from: datetime | None = None
    modified_to: datetime | None = None
    sort: DatasetSort = DatasetSort.MODIFIED_DESC
    rows: int = 20
    start: int = 0


@dataclass
class DatasetPage:
    count: int
    datasets: list[Dataset] = field(default_factory=list)
    organisations: dict[str, Organisation] = field(default_factory=dict)  # by id


def fold_text(text: str) -> str:
    """Lowercase without accents, so 'Ålesund' matches 'alesund' and 'Poznań' 'poznan'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return folded.replace("ø", "o").replace("æ", "ae").replace("ł", "l").replace("ß", "ss")


def search_text_for(dataset: Dataset, organisation_title: str) -> str:
    """The folded text a dataset is found by (names, titles, descriptions in every language)."""
    parts = [dataset.name, organisation_title, *dataset.keywords, *dataset.themes]
    parts += list(dataset.title.values()) + list(dataset.description.values())
    return fold_text(" ".join(parts))


def dataset_get(session: Session, ctx: Context, name_or_id: str) -> Dataset:
    """A dataset the actor may see, by name or id. NotFound otherwise (never 'forbidden',
    which would tell that a private dataset exists)."""
    dataset = session.scalar(
        select(Dataset)
        .where((Dataset.id == name_or_id) | (Dataset.name == name_or_id))
        .where(visibility_clause(ctx.actor))
        .options(selectinload(Dataset.versions))
    )
    if dataset is None:
        raise NotFound(f"no dataset '{name_or_id}'", field="id")
    return dataset


def dataset_show(ctx: Context, name_or_id: str) -> Dataset:
    with ctx.db.session() as session:
        return dataset_get(session, ctx, name_or_id)


def dataset_version(dataset: Dataset, version: int | None = None) -> DatasetVersion:
    """The given version of a dataset, or its latest."""
    if not dataset.versions:
        raise NotFound(f"dataset '{dataset.name}' has no data yet", field="version")
    if version is None:
        return dataset.versions[-1]
    for candidate in dataset.versions:
        if candidate.version == version:
            return candidate
    raise NotFound(f"dataset '{dataset.name}' has no version {version}", field="version")


def dataset_search(ctx: Context, query: DatasetQuery) -> DatasetPage:
    """Datasets the actor may see that match every word of the query and every filter."""
    if not 0 <= query.rows <= MAX_ROWS:
        raise InvalidInput(f"must be between 0 and {MAX_ROWS}", field="rows")
    if query.start < 0:
        raise InvalidInput("must not be negative", field="start")
    conditions = [visibility_clause(ctx.actor)]
    for word in fold_text(query.text).split():
        conditions.append(Dataset.search_text.contains(word, autoescape=True))
    with ctx.db.session() as session:
        if query.organisation:
            organisation = session.scalar(
                select(Organisation.id).where(
                    or_(Organisation.name == query.organisation,
                        Organisation.id == query.organisation)
                )
            )
            conditions.append(Dataset.organisation_id == (organisation or "-"))
        if query.theme:
            conditions.append(Dataset.search_text.contains(fold_text(query.theme)))
        if query.keyword:
            conditions.append(Dataset.search_text.contains(fold_text(query.keyword)))
        if query.place_id:
            conditions.append(cast(Dataset.spatial, Text).contains(f'"{query.place_id}"'))
        if query.modified_from:
            conditions.append(Dataset.modified >= query.modified_from)
        if query.modified_to:
            conditions.append(Dataset.modified <= query.modified_to)
        count = session.scalar(select(func.count()).select_from(Dataset).where(*conditions)) or 0
        datasets = list(
            session.scalars(
                select(Dataset)
                .where(*conditions)
                .order_by(_SORT_COLUMNS[query.sort], Dataset.id)
                .limit(query.rows)
                .offset(query.start)
                .options(selectinload(Dataset.versions))
            )
        )
        organisation_ids = {dataset.organisation_id for dataset in datasets}
        organisations = {
            organisation.id: organisation
            for organisation in session.scalars(
                select(Organisation).where(Organisation.id.in_(organisation_ids))
            )
        }
    return DatasetPage(count=count, datasets=datasets, organisations=organisations)

