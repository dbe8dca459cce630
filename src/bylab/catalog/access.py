"""Who may see and change which dataset. Every listing, search, download and export filters
through ``visible_datasets``; nothing reads the datasets table around it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, true

from bylab.auth.actor import Actor
from bylab.catalog.models import Dataset, DatasetShare, Visibility


def visibility_clause(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause that keeps the datasets ``actor`` may read."""
    if actor.is_sysadmin:
        return true()
    public = Dataset.visibility == Visibility.PUBLIC
    if actor.is_anonymous or not actor.reader_org_ids:
        return public
    own = Dataset.organisation_id.in_(sorted(actor.member_org_ids))
    shared_with_actor = and_(
        Dataset.visibility == Visibility.SHARED,
        exists().where(
            DatasetShare.dataset_id == Dataset.id,
            DatasetShare.organisation_id.in_(sorted(actor.reader_org_ids)),
        ),
    )
    return or_(public, own, shared_with_actor)


def visible_datasets(actor: Actor) -> Select[tuple[Dataset]]:
    return select(Dataset).where(visibility_clause(actor))


def can_edit_dataset(actor: Actor, dataset: Dataset) -> bool:
    return actor.can_edit(dataset.organisation_id)
