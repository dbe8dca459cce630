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
from bylab.web.i18n import N_

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


# A message for each kind of relation, so that each is a sentence of its own to translate.
_RELATED_ALREADY = {
    RelationKind.MEMBER_OF: N_("'{subject}' is already a member of '{object}'"),
    RelationKind.PARTNER_IN: N_("'{subject}' is already a partner in '{object}'"),
    RelationKind.SUPPLIER_TO: N_("'{subject}' is already a supplier to '{object}'"),
    RelationKind.OWNED_BY: N_("'{subject}' is already owned by '{object}'"),
    RelationKind.FUNDED_BY: N_("'{subject}' is already funded by '{object}'")}
_NOT_RELATED = {
    RelationKind.MEMBER_OF: N_("'{subject}' is not a member of '{object}'"),
    RelationKind.PARTNER_IN: N_("'{subject}' is not a partner in '{object}'"),
    RelationKind.SUPPLIER_TO: N_("'{subject}' is not a supplier to '{object}'"),
    RelationKind.OWNED_BY: N_("'{subject}' is not owned by '{object}'"),
    RelationKind.FUNDED_BY: N_("'{subject}' is not funded by '{object}'")}


def relation_kind(kind: str) -> RelationKind:
    """The kind, given as ``supplier-to`` or ``supplier to``; InvalidInput otherwise."""
    try:
        return RelationKind(kind.strip().replace(" ", "-").replace("_", "-"))
    except ValueError:
        raise InvalidInput("unknown relation '{kind}'; use {kinds}", field="kind", kind=kind,
                           kinds=", ".join(RelationKind)) from None


def relation_add_in(session: Session, ctx: Context, subject: str, kind: str,
                    object: str, note: str = "") -> RelationView:
    """``relation_add`` within the caller's transaction."""
    relation = relation_kind(kind)
    source = organisation_get(session, subject)
    if not ctx.actor.can_edit(source.id):
        raise NotAuthorized("only editors of '{organisation}' may add its relations",
                            organisation=source.name)
    target = session.scalar(select(Organisation).where(
        (Organisation.id == object) | (Organisation.name == object)))
    if target is None:
        raise InvalidInput("no organisation '{name}'", field="other", name=object)
    if source.id == target.id:
        raise InvalidInput("an actor cannot be related to itself", field="other")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput("a note holds at most {most} characters", field="note",
                           most=MAX_NOTE_CHARS)
    if session.get(ActorRelation, (source.id, relation.value, target.id)) is not None:
        raise Conflict(_RELATED_ALREADY[relation], field="kind", subject=source.name,
                       object=target.name)
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
            raise NotAuthorized("only editors of '{organisation}' may remove its relations",
                                organisation=source.name)
        removed = session.execute(delete(ActorRelation).where(
            ActorRelation.subject_id == source.id, ActorRelation.kind == relation.value,
            ActorRelation.object_id == target.id))
        if not removed.rowcount:  # type: ignore[attr-defined]
            raise NotFound(_NOT_RELATED[relation], field="kind", subject=source.name,
                           object=target.name)


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
