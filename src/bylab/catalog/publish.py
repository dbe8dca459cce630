"""Write actions on the catalogue: publish, version, describe, share and delete datasets.

These signatures are what the web pages, the REST API,
the CLI and the demo loader call. dataset_publish and dataset_add_version: ingest in progress.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bylab.auth.actions import check_name, organisation_get
from bylab.auth.models import Organisation
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Dataset, DatasetShare, DatasetVersion, Visibility
from bylab.catalog.queries import dataset_get, search_text_for
from bylab.core import Context
from bylab.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from bylab.places.models import Place
from bylab.storage.base import utcnow

# progress(done, total, unit): bytes read so far out of total (total may be None).
ProgressCallback = Callable[[int, int | None, str], None]


def dataset_publish(
    ctx: Context,
    metadata: DatasetMetadata,
    source: Path,
    filename: str | None = None,
    progress: ProgressCallback | None = None,
) -> Dataset:
    """Create a dataset and store ``source`` as its version 1, all or nothing: a bad file
    leaves no dataset behind. ``filename`` is the user's name for the file (for messages
    and the format guess); defaults to ``source.name``."""
    raise NotImplementedError


def dataset_create(ctx: Context, metadata: DatasetMetadata) -> Dataset:
    """Create a dataset's record without data (versions are added later)."""
    check_name(metadata.name)
    with ctx.db.session() as session:
        organisation = organisation_get(session, metadata.organisation)
        _require_editor(ctx, organisation.id)
        if session.scalar(select(Dataset.id).where(Dataset.name == metadata.name)):
            raise Conflict(f"a dataset named '{metadata.name}' exists already", field="name")
        dataset = Dataset(name=metadata.name, organisation_id=organisation.id)
        _apply_metadata(session, dataset, metadata, organisation)
        session.add(dataset)
        session.flush()
        _replace_shares(session, dataset, metadata.shared_with)
    return dataset


def _require_editor(ctx: Context, organisation_id: str) -> None:
    if not ctx.actor.can_edit(organisation_id):
        raise NotAuthorized("you need the editor role in the publishing organisation",
                            field="organisation")


def _apply_metadata(
    session: Session, dataset: Dataset, metadata: DatasetMetadata, organisation: Organisation
) -> None:
    unknown_places = _unknown_places(session, metadata.spatial)
    if unknown_places:
        raise InvalidInput(f"unknown place code(s): {', '.join(unknown_places)}", field="spatial")
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
    dataset.search_text = search_text_for(dataset, organisation.title)


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
            raise InvalidInput(f"no organisation or network '{name}'", field="shared_with") from None
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
) -> DatasetVersion:
    """Store a new version of a dataset's data. Earlier versions stay readable."""
    raise NotImplementedError


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
