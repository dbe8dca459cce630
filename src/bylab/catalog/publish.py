"""Write actions on the catalogue: publish, version, describe, share and delete datasets.

These signatures are what the web pages, the REST API, the CLI and the demo loader call.

Data is written before its record: a version's Parquet file is converted into a temporary
file, renamed into place, and only then is the database row written (removing the file again
if that fails). A bad file therefore never leaves a dataset, a version or a file behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bylab.auth.actions import check_name, organisation_get
from bylab.auth.models import Organisation
from bylab.catalog.ingest import IngestedTable, ProgressCallback, ingest_file
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Dataset, DatasetShare, DatasetVersion, Visibility
from bylab.catalog.queries import dataset_get, fold_text, search_text_for
from bylab.core import Context
from bylab.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from bylab.places.models import Place
from bylab.storage.base import new_id, utcnow
from bylab.storage.tables import TableStore

try:
    import fcntl
except ImportError:  # Windows: versions of one dataset are then not serialised across processes
    fcntl = None  # type: ignore[assignment]

__all__ = ["ProgressCallback", "dataset_add_version", "dataset_create", "dataset_delete",
           "dataset_publish", "dataset_share_set", "dataset_shared_with", "dataset_update"]


def dataset_publish(
    ctx: Context,
    metadata: DatasetMetadata,
    source: Path,
    filename: str | None = None,
    progress: ProgressCallback | None = None,
    sheet: str | None = None,
) -> Dataset:
    """Create a dataset and store ``source`` as its version 1, all or nothing: a bad file
    leaves no dataset behind. ``filename`` is the user's name for the file (for messages
    and the format guess); defaults to ``source.name``. ``sheet`` picks an Excel sheet
    (default: the first). A column with mixed types is stored as text, with a warning in
    its schema (see ``bylab.catalog.ingest.csv_reader``)."""
    filename = filename or source.name
    _check_can_create(ctx, metadata)  # fail fast, before reading a large file
    dataset_id = new_id()
    try:
        with ctx.tables.atomic_path(ctx.tables.path_for(dataset_id, 1)) as temporary:
            ingested = ingest_file(source, filename, temporary, ctx.settings, progress, sheet)
        with ctx.db.session() as session:
            dataset = _insert_dataset(session, ctx, metadata, dataset_id)
            _record_version(session, ctx, dataset, 1, ingested, filename, note="")
    except BaseException:
        ctx.tables.delete_dataset(dataset_id)
        raise
    return dataset


def dataset_create(ctx: Context, metadata: DatasetMetadata) -> Dataset:
    """Create a dataset's record without data (versions are added later)."""
    with ctx.db.session() as session:
        return _insert_dataset(session, ctx, metadata)


def _insert_dataset(session: Session, ctx: Context, metadata: DatasetMetadata,
                    dataset_id: str | None = None) -> Dataset:
    check_name(metadata.name)
    organisation = organisation_get(session, metadata.organisation)
    _require_editor(ctx, organisation.id)
    if session.scalar(select(Dataset.id).where(Dataset.name == metadata.name)):
        raise Conflict("a dataset named '{name}' exists already", field="name", name=metadata.name)
    dataset = Dataset(id=dataset_id or new_id(), name=metadata.name,
                      organisation_id=organisation.id, versions=[])
    _apply_metadata(session, dataset, metadata, organisation)
    session.add(dataset)
    session.flush()
    _replace_shares(session, dataset, metadata.shared_with)
    return dataset


def _check_can_create(ctx: Context, metadata: DatasetMetadata) -> None:
    """Every check dataset creation makes, without creating anything."""
    with ctx.db.session() as session:
        _insert_dataset(session, ctx, metadata)
        session.rollback()


def _require_editor(ctx: Context, organisation_id: str) -> None:
    if not ctx.actor.can_edit(organisation_id):
        raise NotAuthorized("you need the editor role in the publishing organisation",
                            field="organisation")


def _apply_metadata(
    session: Session, dataset: Dataset, metadata: DatasetMetadata, organisation: Organisation
) -> None:
    unknown_places = _unknown_places(session, metadata.spatial)
    if unknown_places:
        raise InvalidInput("unknown place code(s): {codes}", field="spatial",
                           codes=", ".join(unknown_places))
    if metadata.visibility != Visibility.SHARED and metadata.shared_with:
        raise InvalidInput("'shared_with' needs visibility 'shared'", field="shared_with")
    if (metadata.temporal_start and metadata.temporal_end
            and metadata.temporal_start > metadata.temporal_end):
        raise InvalidInput("the period ends before it starts", field="temporal_end")
    for attribute in ("title", "description", "visibility", "themes", "keywords", "licence_id",
                      "spatial", "temporal_start", "temporal_end", "frequency", "contact_name",
                      "landing_page", "source_note"):
        setattr(dataset, attribute, getattr(metadata, attribute))
    dataset.contact_email = metadata.contact_email or ""
    dataset.modified = utcnow()
    _refresh_search_text(dataset, organisation.title)


def _refresh_search_text(dataset: Dataset, organisation_title: str) -> None:
    """Metadata text plus the latest version's column names."""
    column_names = [str(column["name"]) for column in
                    (dataset.versions[-1].columns if dataset.versions else [])]
    dataset.search_text = " ".join(
        [search_text_for(dataset, organisation_title), fold_text(" ".join(column_names))]
    ).strip()


def _unknown_places(session: Session, place_ids: list[str]) -> list[str]:
    if not place_ids:
        return []
    known = set(session.scalars(select(Place.id).where(Place.id.in_(place_ids))))
    return [place_id for place_id in place_ids if place_id not in known]


def _replace_shares(session: Session, dataset: Dataset, shared_with: list[str]) -> None:
    session.execute(delete(DatasetShare).where(DatasetShare.dataset_id == dataset.id))
    for name in dict.fromkeys(shared_with):
        try:
            organisation = organisation_get(session, name)
        except NotFound:
            raise InvalidInput("no organisation or network '{name}'", field="shared_with",
                               name=name) from None
        session.add(DatasetShare(dataset_id=dataset.id, organisation_id=organisation.id))


def dataset_shared_with(ctx: Context, dataset: Dataset) -> list[Organisation]:
    """The organisations and networks a dataset is shared with."""
    with ctx.db.session() as session:
        return list(session.scalars(
            select(Organisation)
            .join(DatasetShare, DatasetShare.organisation_id == Organisation.id)
            .where(DatasetShare.dataset_id == dataset.id)
            .order_by(Organisation.name)
        ))


def _editable_dataset(session: Session, ctx: Context, name_or_id: str) -> Dataset:
    dataset = dataset_get(session, ctx, name_or_id)
    _require_editor(ctx, dataset.organisation_id)
    return dataset


def dataset_add_version(
    ctx: Context,
    name_or_id: str,
    source: Path,
    filename: str | None = None,
    note: str = "",
    progress: ProgressCallback | None = None,
    sheet: str | None = None,
) -> DatasetVersion:
    """Store a new version of a dataset's data. Earlier versions stay readable. A bad file
    adds no version and leaves no file."""
    filename = filename or source.name
    with ctx.db.session() as session:
        dataset_id = _editable_dataset(session, ctx, name_or_id).id
    with _versions_locked(ctx.tables, dataset_id):
        with ctx.db.session() as session:
            number = _next_version(_editable_dataset(session, ctx, dataset_id))
        final_path = ctx.tables.path_for(dataset_id, number)
        with ctx.tables.atomic_path(final_path) as temporary:
            ingested = ingest_file(source, filename, temporary, ctx.settings, progress, sheet)
        try:
            with ctx.db.session() as session:
                dataset = _editable_dataset(session, ctx, dataset_id)
                return _record_version(session, ctx, dataset, number, ingested, filename, note)
        except BaseException:
            final_path.unlink(missing_ok=True)
            raise


def _next_version(dataset: Dataset) -> int:
    return max((version.version for version in dataset.versions), default=0) + 1


@contextmanager
def _versions_locked(tables: TableStore, dataset_id: str) -> Iterator[None]:
    """Serialise adding versions to one dataset across processes (CLI and server), so two
    uploads never pick the same version number and overwrite each other's file."""
    folder = tables.root / dataset_id
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    descriptor = os.open(folder / ".versions.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _record_version(session: Session, ctx: Context, dataset: Dataset, number: int,
                    ingested: IngestedTable, filename: str, note: str) -> DatasetVersion:
    version = DatasetVersion(
        dataset_id=dataset.id, version=number, created_by=ctx.actor.user_id,
        source_filename=filename, source_format=str(ingested.source_format),
        table_path=ctx.tables.relative(ctx.tables.path_for(dataset.id, number)),
        row_count=ingested.row_count, byte_size=ingested.byte_size, sha256=ingested.sha256,
        columns=ingested.columns, note=note,
    )
    dataset.versions.append(version)
    dataset.latest_version = number
    dataset.is_spatial = ingested.is_spatial
    dataset.modified = utcnow()
    _refresh_search_text(dataset, organisation_get(session, dataset.organisation_id).title)
    session.flush()
    return version


def dataset_update(ctx: Context, name_or_id: str, metadata: DatasetMetadata) -> Dataset:
    """Replace a dataset's metadata (not its data). The name and publisher stay."""
    with ctx.db.session() as session:
        dataset = _editable_dataset(session, ctx, name_or_id)
        organisation = organisation_get(session, dataset.organisation_id)
        metadata = metadata.model_copy(update={"name": dataset.name})
        _apply_metadata(session, dataset, metadata, organisation)
        _replace_shares(session, dataset, metadata.shared_with)
    return dataset


def dataset_share_set(
    ctx: Context, name_or_id: str, visibility: Visibility, shared_with: list[str]
) -> Dataset:
    """Set who may see a dataset."""
    if visibility != Visibility.SHARED and shared_with:
        raise InvalidInput("'shared_with' needs visibility 'shared'", field="shared_with")
    with ctx.db.session() as session:
        dataset = _editable_dataset(session, ctx, name_or_id)
        dataset.visibility = Visibility(visibility)
        dataset.modified = utcnow()
        _replace_shares(session, dataset, shared_with)
    return dataset


def dataset_delete(ctx: Context, name_or_id: str) -> None:
    """Delete a dataset with all its versions."""
    with ctx.db.session() as session:
        dataset = _editable_dataset(session, ctx, name_or_id)
        dataset_id = dataset.id
        session.delete(dataset)
    ctx.tables.delete_dataset(dataset_id)
