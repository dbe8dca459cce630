"""Who may see and change which dataset. Every listing, search, download and export filters
through ``visible_datasets``; nothing reads the datasets table around it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, true

from bylab.auth.actor import Actor
from bylab.catalog.models import Dataset, DatasetShare, Visibility


def sharing_clause(actor: Actor, visibility: ColumnElement[str],
                   organisation_id: ColumnElement[str], record_id: ColumnElement[str],
                   share_record_id: ColumnElement[str],
                   share_organisation_id: ColumnElement[str]) -> ColumnElement[bool]:
    """The sharing rule of every shareable record (datasets, saved scenarios): a WHERE clause
    that keeps what ``actor`` may read, given the record's visibility, owner and id columns
    and its share table's record and organisation columns."""
    if actor.is_sysadmin:
        return true()
    public = visibility == Visibility.PUBLIC
    if actor.is_anonymous or not actor.reader_org_ids:
        return public
    own = organisation_id.in_(sorted(actor.member_org_ids))
    shared_with_actor = and_(
        visibility == Visibility.SHARED,
        exists().where(
            share_record_id == record_id,
            share_organisation_id.in_(sorted(actor.reader_org_ids)),
        ),
    )
    return or_(public, own, shared_with_actor)


def visibility_clause(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause that keeps the datasets ``actor`` may read."""
    return sharing_clause(actor, Dataset.visibility, Dataset.organisation_id, Dataset.id,
                          DatasetShare.dataset_id, DatasetShare.organisation_id)


def visible_datasets(actor: Actor) -> Select[tuple[Dataset]]:
    return select(Dataset).where(visibility_clause(actor))


def can_edit_dataset(actor: Actor, dataset: Dataset) -> bool:
    return actor.can_edit(dataset.organisation_id)
