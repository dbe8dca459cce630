"""Typed relations between actors (organisations): a company is a supplier to a
municipality, a municipality a member of a regional programme, a utility owned by a
municipality. Editors of the subject organisation record and remove its relations; anyone
may read them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bylab.auth.actions import organisation_get
from bylab.auth.models import Organisation
from bylab.core import Context
from bylab.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from bylab.registry.models import ActorRelation, RelationKind

MAX_NOTE_CHARS = 300


@dataclass(frozen=True)
class RelationView:
    """A relation as one of its two actors sees it."""

    subject: Organisation
    kind: RelationKind
    object: Organisation
    note: str

    @property
    def text(self) -> str:
        return f"{self.subject.title} is {self.kind.label} {self.object.title}"


def relation_kind(kind: str) -> RelationKind:
    """The kind, given as ``supplier-to`` or ``supplier to``; InvalidInput otherwise."""
    try:
        return RelationKind(kind.strip().replace(" ", "-").replace("_", "-"))
    except ValueError:
        raise InvalidInput(f"unknown relation '{kind}'; use "
                           f"{', '.join(RelationKind)}", field="kind") from None


def relation_add_in(session: Session, ctx: Context, subject: str, kind: str,
                    object: str, note: str = "") -> RelationView:
    """``relation_add`` within the caller's transaction."""
    relation = relation_kind(kind)
    source = organisation_get(session, subject)
    if not ctx.actor.can_edit(source.id):
        raise NotAuthorized(f"only editors of '{source.name}' may add its relations")
    target = session.scalar(select(Organisation).where(
        (Organisation.id == object) | (Organisation.name == object)))
    if target is None:
        raise InvalidInput(f"no organisation '{object}'", field="other")
    if source.id == target.id:
        raise InvalidInput("an actor cannot be related to itself", field="other")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"a note holds at most {MAX_NOTE_CHARS} characters", field="note")
    if session.get(ActorRelation, (source.id, relation.value, target.id)) is not None:
        raise Conflict(f"'{source.name}' is {relation.label} '{target.name}' already",
                       field="kind")
    session.add(ActorRelation(subject_id=source.id, kind=relation.value, object_id=target.id,
                              note=note.strip(), created_by=ctx.actor.username or ""))
    return RelationView(source, relation, target, note.strip())


def relation_add(ctx: Context, subject: str, kind: str, object: str,
                 note: str = "") -> RelationView:
    """Record that ``subject`` is ``kind`` ``object`` (editors of the subject only)."""
    with ctx.db.session() as session:
        return relation_add_in(session, ctx, subject, kind, object, note)


def relation_remove(ctx: Context, subject: str, kind: str, object: str) -> None:
    """Remove a relation (editors of the subject only); NotFound when there is none."""
    relation = relation_kind(kind)
    with ctx.db.session() as session:
        source, target = organisation_get(session, subject), organisation_get(session, object)
        if not ctx.actor.can_edit(source.id):
            raise NotAuthorized(f"only editors of '{source.name}' may remove its relations")
        removed = session.execute(delete(ActorRelation).where(
            ActorRelation.subject_id == source.id, ActorRelation.kind == relation.value,
            ActorRelation.object_id == target.id))
        if not removed.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"'{source.name}' is not {relation.label} '{target.name}'",
                           field="kind")


def _views(session: Session, rows: list[ActorRelation]) -> list[RelationView]:
    ids = {row.subject_id for row in rows} | {row.object_id for row in rows}
    orgs = {org.id: org for org in session.scalars(
        select(Organisation).where(Organisation.id.in_(ids)))}
    return [RelationView(orgs[row.subject_id], RelationKind(row.kind), orgs[row.object_id],
                         row.note) for row in rows]


def relations_of(ctx: Context, actor: str) -> list[RelationView]:
    """The relations the actor is the subject or the object of, its own first."""
    with ctx.db.session() as session:
        org = organisation_get(session, actor)
        rows = list(session.scalars(select(ActorRelation).where(
            (ActorRelation.subject_id == org.id) | (ActorRelation.object_id == org.id))))
        views = _views(session, rows)
    return sorted(views, key=lambda view: (view.subject.id != org.id, view.kind,
                                           view.subject.name, view.object.name))


def relation_list(ctx: Context) -> list[RelationView]:
    """Every relation, by subject, kind and object."""
    with ctx.db.session() as session:
        views = _views(session, list(session.scalars(select(ActorRelation))))
    return sorted(views, key=lambda view: (view.subject.name, view.kind, view.object.name))
