"""Read actions on the catalogue: show and search datasets the actor may see."""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    cast,
    column,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.orm import Session, selectinload

from bylab.auth.actor import Actor
from bylab.auth.models import Organisation
from bylab.catalog.access import visibility_clause
from bylab.catalog.models import CatalogRevision, Dataset, DatasetVersion
from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.storage.database import Database

MAX_ROWS = 1000
# What a dataset with data can be downloaded as (bylab.catalog.export.ExportFormat);
# GeoJSON only when it is spatial.
DOWNLOAD_FORMATS = ("csv", "parquet", "json", "geojson")
SPATIAL_FORMAT = "geojson"
# The SQLite full-text (FTS5 trigram) table over datasets.search_text, kept in step by
# triggers (migration 0002); PostgreSQL searches datasets.search_text through a trigram index.
SEARCH_INDEX = table("dataset_search_index", column("dataset_id"), column("search_text"))


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


class DatasetFacet(StrEnum):
    ORGANISATION = "organisation"
    KEYWORD = "keyword"
    THEME = "theme"
    FORMAT = "format"
    LICENCE = "licence"


@dataclass(frozen=True)
class DatasetQuery:
    """Which datasets to find: every word of ``text`` (accents and case folded, anywhere in
    the names, titles, descriptions, keywords and column names) and every filter given."""

    text: str = ""
    organisation: str | None = None  # name or id
    theme: str | None = None  # EU data-theme code, e.g. REGI (any case)
    keywords: tuple[str, ...] = ()  # each exactly, as stored
    formats: tuple[str, ...] = ()  # download formats offered, e.g. ("csv", "geojson")
    name: str | None = None
    licence_id: str | None = None
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
        raise NotFound("no dataset '{name}'", field="id", name=name_or_id)
    return dataset


def dataset_show(ctx: Context, name_or_id: str) -> Dataset:
    with ctx.db.session() as session:
        return dataset_get(session, ctx, name_or_id)


def dataset_version(dataset: Dataset, version: int | None = None) -> DatasetVersion:
    """The given version of a dataset, or its latest."""
    if not dataset.versions:
        raise NotFound("dataset '{name}' has no data yet", field="version", name=dataset.name)
    if version is None:
        return dataset.versions[-1]
    for candidate in dataset.versions:
        if candidate.version == version:
            return candidate
    raise NotFound("dataset '{name}' has no version {version}", field="version",
                   name=dataset.name, version=version)


def dataset_search(ctx: Context, query: DatasetQuery) -> DatasetPage:
    """Datasets the actor may see that match every word of the query and every filter.

    The page is found by ids first (the sort reads indexes, not whole rows), then those
    datasets are loaded."""
    _check_page(query)
    with ctx.db.session() as session:
        conditions = _conditions(session, ctx, query)
        page_ids, count = _page_ids(session, conditions, query)
        datasets = _datasets_by_id(session, page_ids)
        organisations = {
            organisation.id: organisation
            for organisation in session.scalars(select(Organisation).where(
                Organisation.id.in_({dataset.organisation_id for dataset in datasets})))
        }
    return DatasetPage(count=count, datasets=datasets, organisations=organisations)


def dataset_facets(ctx: Context, query: DatasetQuery, facets: list[DatasetFacet],
                   limit: int | None = None) -> dict[DatasetFacet, list[tuple[str, int]]]:
    """How many of the datasets ``query`` finds carry each value of each facet (the
    paging of ``query`` is ignored): most frequent first, at most ``limit`` values each.
    Organisations are named by their name, themes by their EU code, formats by extension."""
    with ctx.db.session() as session:
        conditions = _conditions(session, ctx, query)
        return {facet: _FACET_COUNTERS[facet](session, conditions, limit) for facet in facets}


def _check_page(query: DatasetQuery) -> None:
    if not 0 <= query.rows <= MAX_ROWS:
        raise InvalidInput("must be between 0 and {limit}", field="rows", limit=MAX_ROWS)
    if query.start < 0:
        raise InvalidInput("must not be negative", field="start")


def _page_ids(session: Session, conditions: list[ColumnElement[bool]], query: DatasetQuery
              ) -> tuple[list[str], int]:
    """The ids on the page, and how many datasets match in all. Words narrow the matches
    through the text index, so those are counted in the same pass (a window count); without
    words the count reads an index on its own, and only when the page does not tell it."""
    ordered = (select(Dataset.id).where(*conditions)
               .order_by(_SORT_COLUMNS[query.sort], Dataset.id)
               .limit(query.rows).offset(query.start))
    if not _words(query):
        ids = list(session.scalars(ordered))
        return ids, _count(session, conditions, query, len(ids))
    rows = session.execute(ordered.add_columns(func.count().over())).all()
    if rows:
        return [dataset_id for dataset_id, _total in rows], rows[0][1]
    return [], _count(session, conditions, query, 0)


def _count(session: Session, conditions: list[ColumnElement[bool]], query: DatasetQuery,
           found_on_page: int) -> int:
    if 0 < found_on_page < query.rows or (found_on_page == 0 < query.rows and not query.start):
        return query.start + found_on_page  # a short page is the last one
    return session.scalar(select(func.count()).select_from(Dataset).where(*conditions)) or 0


def _datasets_by_id(session: Session, ids: list[str]) -> list[Dataset]:
    if not ids:
        return []
    loaded = {dataset.id: dataset for dataset in session.scalars(
        select(Dataset).where(Dataset.id.in_(ids)).options(selectinload(Dataset.versions)))}
    return [loaded[dataset_id] for dataset_id in ids]


def _conditions(session: Session, ctx: Context, query: DatasetQuery
                ) -> list[ColumnElement[bool]]:
    is_sqlite = session.get_bind().dialect.name == "sqlite"
    conditions = [visibility_clause(ctx.actor)]
    conditions += _text_conditions(_words(query), is_sqlite)
    if query.organisation:
        conditions.append(Dataset.organisation_id == _organisation_id(session,
                                                                       query.organisation))
    if query.theme:
        conditions.append(_list_has(Dataset.themes, query.theme.upper(), is_sqlite))
    conditions += [_list_has(Dataset.keywords, keyword, is_sqlite) for keyword in query.keywords]
    conditions += [_offers_format(extension) for extension in query.formats]
    if query.name:
        conditions.append(Dataset.name == query.name)
    if query.licence_id:
        conditions.append(Dataset.licence_id == query.licence_id)
    if query.place_id:
        conditions.append(cast(Dataset.spatial, Text).contains(f'"{query.place_id}"'))
    if query.modified_from:
        conditions.append(Dataset.modified >= query.modified_from)
    if query.modified_to:
        conditions.append(Dataset.modified <= query.modified_to)
    return conditions


def _words(query: DatasetQuery) -> list[str]:
    """The folded words a dataset's search text must contain: the query's text, and the
    exact keywords and theme asked for (so the text index narrows those checks, too)."""
    return fold_text(" ".join([query.text, *query.keywords, query.theme or ""])).split()


def _organisation_id(session: Session, name_or_id: str) -> str:
    found = session.scalar(select(Organisation.id).where(
        or_(Organisation.name == name_or_id, Organisation.id == name_or_id)))
    return found or "-"


def _text_conditions(words: list[str], is_sqlite: bool) -> list[ColumnElement[bool]]:
    """``search_text`` contains every word. PostgreSQL answers the LIKE from its trigram
    index. On SQLite, words of three or more characters are looked up in the FTS5 trigram
    table as phrases (a phrase of trigrams is exactly a substring); shorter words, which
    have no trigram, are checked on the row."""
    if not is_sqlite:
        return [Dataset.search_text.contains(word, autoescape=True) for word in words]
    conditions: list[ColumnElement[bool]] = [
        func.instr(Dataset.search_text, word) > 0 for word in words if len(word) < 3]
    phrases = " ".join('"' + word.replace('"', '""') + '"' for word in words if len(word) >= 3)
    if phrases:
        conditions.append(Dataset.id.in_(select(SEARCH_INDEX.c.dataset_id).where(
            SEARCH_INDEX.c.search_text.op("MATCH")(phrases))))
    return conditions


def _list_elements(column: Any, is_sqlite: bool) -> Any:
    """The items of a JSON list column, as rows with one ``value`` column."""
    function = func.json_each if is_sqlite else func.jsonb_array_elements_text
    return function(column).table_valued("value")


def _list_has(column: Any, value: str, is_sqlite: bool) -> ColumnElement[bool]:
    """The JSON list in ``column`` holds exactly ``value`` (case counts, as in CKAN)."""
    items = _list_elements(column, is_sqlite)
    return exists(select(literal(1)).select_from(items).where(items.c.value == value))


def _offers_format(extension: str) -> ColumnElement[bool]:
    """The dataset can be downloaded as ``extension`` (it has data; GeoJSON if spatial)."""
    has_data = Dataset.latest_version > 0
    if extension.lower() == SPATIAL_FORMAT:
        return and_(has_data, Dataset.is_spatial)
    return has_data if extension.lower() in DOWNLOAD_FORMATS else false()


# ---------------------------------------------------------------- facets

FacetCounts = list[tuple[str, int]]


def _top(session: Session, value: Any, conditions: list[ColumnElement[bool]],
         limit: int | None, items: Any = None) -> FacetCounts:
    """Datasets per value, most first; ``items`` are the JSON list items ``value`` is from."""
    per_value = func.count(Dataset.id.distinct())
    source = Dataset.__table__ if items is None else Dataset.__table__.join(items, true())
    query = select(value, per_value).select_from(source).where(*conditions)
    rows = session.execute(query.group_by(value).order_by(per_value.desc(), value).limit(limit))
    return [(str(name), count) for name, count in rows]


def _organisation_counts(session: Session, conditions: list[ColumnElement[bool]],
                         limit: int | None) -> FacetCounts:
    joined = Organisation.__table__.join(Dataset.__table__,
                                         Organisation.id == Dataset.organisation_id)
    query = (select(Organisation.name, func.count()).select_from(joined).where(*conditions)
             .group_by(Organisation.name).order_by(func.count().desc(), Organisation.name))
    return [(name, count) for name, count in session.execute(query.limit(limit))]


def _list_counter(column: Any) -> Any:
    def counts(session: Session, conditions: list[ColumnElement[bool]],
               limit: int | None) -> FacetCounts:
        items = _list_elements(column, session.get_bind().dialect.name == "sqlite")
        return _top(session, items.c.value, conditions, limit, items)
    return counts


def _licence_counts(session: Session, conditions: list[ColumnElement[bool]],
                    limit: int | None) -> FacetCounts:
    return _top(session, Dataset.licence_id, conditions, limit)


def _format_counts(session: Session, conditions: list[ColumnElement[bool]],
                   limit: int | None) -> FacetCounts:
    with_data, spatial = session.execute(
        select(func.count(), func.count().filter(Dataset.is_spatial))
        .where(*conditions, Dataset.latest_version > 0)).one()
    counts = [(extension, spatial if extension == SPATIAL_FORMAT else with_data)
              for extension in DOWNLOAD_FORMATS]
    ranked = sorted((item for item in counts if item[1]), key=lambda item: -item[1])
    return ranked[:limit]


_FACET_COUNTERS = {
    DatasetFacet.ORGANISATION: _organisation_counts,
    DatasetFacet.KEYWORD: _list_counter(Dataset.keywords),
    DatasetFacet.THEME: _list_counter(Dataset.themes),
    DatasetFacet.FORMAT: _format_counts,
    DatasetFacet.LICENCE: _licence_counts,
}


# ---------------------------------------------------------------- per-process read cache

READ_CACHE_ENTRIES = 512
READ_CACHE_WEIGHT = 32_000_000  # total weight (characters of cached JSON) per instance
_REVISION = select(CatalogRevision.revision).where(CatalogRevision.id == 1)
Result = TypeVar("Result")


def catalog_revision(ctx: Context) -> int:
    """The catalogue's revision. Database triggers (migration 0004) bump it in the same
    transaction as every write a catalogue read depends on, whichever process writes, so a
    reader sees a new number exactly when it can see the new rows."""
    with ctx.db.engine.connect() as connection:
        return connection.scalar(_REVISION) or 0


def visibility_key(actor: Actor) -> Hashable:
    """What of ``actor`` decides the datasets ``visibility_clause`` keeps: actors with equal
    keys see exactly the same datasets (kept in step with that function)."""
    if actor.is_sysadmin:
        return "sysadmin"
    if actor.is_anonymous or not actor.reader_org_ids:
        return "public"
    return (tuple(sorted(actor.member_org_ids)), tuple(sorted(actor.reader_org_ids)))


class CatalogReadCache:
    """Results of catalogue reads, valid for one catalogue revision: a bounded LRU (by
    entries and by total weight), safe to share between threads. Moving to a newer revision
    drops every entry; a result computed under an older revision is not kept."""

    def __init__(self, max_entries: int | None = None, max_weight: int | None = None) -> None:
        self.max_entries = max_entries or READ_CACHE_ENTRIES
        self.max_weight = max_weight or READ_CACHE_WEIGHT
        self.revision = 0
        self.weight = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, revision: int, key: Hashable) -> Any | None:
        with self._lock:
            if revision != self.revision or key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key][0]

    def put(self, revision: int, key: Hashable, value: Any, weight: int = 1) -> None:
        with self._lock:
            if revision > self.revision:
                self._entries.clear()
                self.revision, self.weight = revision, 0
            if revision != self.revision or weight > self.max_weight:
                return
            if key in self._entries:
                self.weight -= self._entries.pop(key)[1]
            self._entries[key] = (value, weight)
            self.weight += weight
            while len(self._entries) > self.max_entries or self.weight > self.max_weight:
                self.weight -= self._entries.popitem(last=False)[1][1]


# Caches per open instance (tests open many in one process, each counting from 1), one per
# kind of read, so many one-off reads of single datasets cannot push out repeated searches.
_read_caches: WeakKeyDictionary[Database, dict[str, CatalogReadCache]] = WeakKeyDictionary()
_read_caches_lock = threading.Lock()


def read_cache(ctx: Context, kind: str) -> CatalogReadCache:
    """This process's cache of ``kind`` reads (e.g. "package_search") of ``ctx``'s instance."""
    with _read_caches_lock:
        caches = _read_caches.setdefault(ctx.db, {})
        if kind not in caches:
            caches[kind] = CatalogReadCache()
        return caches[kind]


def cached_read(ctx: Context, kind: str, key: Hashable, compute: Callable[[], Result],
                weigh: Callable[[Result], int] = lambda _value: 1) -> Result:
    """``compute()``, or its result from an earlier ``kind`` read with the same ``key`` under
    the current catalogue revision. ``key`` must hold everything the result depends on
    besides the catalogue's rows, including ``visibility_key(ctx.actor)`` when it reads
    datasets. The revision is read before computing, so a kept result is never older than
    the revision it is filed under."""
    revision = catalog_revision(ctx)
    cache = read_cache(ctx, kind)
    found = cache.get(revision, key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    value = compute()
    cache.put(revision, key, value, weigh(value))
    return value
