"""Saved scenarios and who may see them, with the sharing levels of datasets: public, shared
with named organisations or networks, or private to the owning organisation. A scenario the
actor may not see is "not found", as a hidden dataset is."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from bylab.auth.actions import organisation_get
from bylab.auth.actor import Actor
from bylab.auth.models import Organisation
from bylab.catalog.access import sharing_clause
from bylab.catalog.models import Visibility
from bylab.core import Context
from bylab.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from bylab.scenarios.models import SavedScenario, ScenarioShare
from bylab.scenarios.spec import ScenarioSpec, spec_from_dict
from bylab.storage.base import utcnow


def scenario_visibility_clause(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause that keeps the saved scenarios ``actor`` may read (the datasets' rule)."""
    return sharing_clause(actor, SavedScenario.visibility, SavedScenario.organisation_id,
                          SavedScenario.id, ScenarioShare.scenario_id,
                          ScenarioShare.organisation_id)


def scenario_save(ctx: Context, spec: ScenarioSpec, organisation: str,
                  visibility: Visibility = Visibility.PRIVATE,
                  shared_with: list[str] | None = None) -> SavedScenario:
    """Save a scenario under its name for an organisation the actor edits for; saving again
    under the same name replaces the content (only for the scenario's own organisation)."""
    with ctx.db.session() as session:
        owner = organisation_get(session, organisation)
        if not ctx.actor.can_edit(owner.id):
            raise NotAuthorized("only editors of '{organisation}' may save its scenarios",
                                organisation=owner.name)
        saved = session.scalar(select(SavedScenario).where(SavedScenario.name == spec.name))
        if saved is None:
            saved = SavedScenario(name=spec.name, organisation_id=owner.id,
                                  created_by=ctx.actor.username or "")
            session.add(saved)
        elif saved.organisation_id != owner.id:
            raise Conflict("a scenario named '{name}' exists already", field="name",
                           name=spec.name)
        saved.title = spec.title
        saved.spec = spec.model_dump(mode="json")
        saved.modified = utcnow()
        _set_sharing(session, saved, visibility, shared_with or [])
        session.flush()
        session.expunge(saved)
    return saved


def scenario_list(ctx: Context) -> list[SavedScenario]:
    """The saved scenarios the actor may see, newest first."""
    with ctx.db.session() as session:
        found = list(session.scalars(select(SavedScenario)
                                     .where(scenario_visibility_clause(ctx.actor))
                                     .order_by(SavedScenario.modified.desc())))
        session.expunge_all()
    return found


def scenario_show(ctx: Context, name: str) -> tuple[SavedScenario, ScenarioSpec]:
    """A saved scenario the actor may see, with its validated content; NotFound otherwise."""
    with ctx.db.session() as session:
        saved = _visible(session, ctx, name)
        session.expunge(saved)
    return saved, spec_from_dict(saved.spec, file=saved.name)


def scenario_share_set(ctx: Context, name: str, visibility: Visibility,
                       shared_with: list[str]) -> SavedScenario:
    """Set who may see a saved scenario (editors of its organisation)."""
    with ctx.db.session() as session:
        saved = _editable(session, ctx, name)
        _set_sharing(session, saved, visibility, shared_with)
        saved.modified = utcnow()
        session.flush()
        session.expunge(saved)
    return saved


def scenario_shared_with(ctx: Context, saved: SavedScenario) -> list[str]:
    """Names of the organisations and networks a saved scenario is shared with."""
    with ctx.db.session() as session:
        return list(session.scalars(
            select(Organisation.name)
            .join(ScenarioShare, ScenarioShare.organisation_id == Organisation.id)
            .where(ScenarioShare.scenario_id == saved.id).order_by(Organisation.name)))


def scenario_delete(ctx: Context, name: str) -> None:
    """Delete a saved scenario (editors of its organisation)."""
    with ctx.db.session() as session:
        session.delete(_editable(session, ctx, name))


def _visible(session: Session, ctx: Context, name: str) -> SavedScenario:
    saved = session.scalar(select(SavedScenario).where(
        SavedScenario.name == name, scenario_visibility_clause(ctx.actor)))
    if saved is None:
        raise NotFound("no scenario '{name}'", field="name", name=name)
    return saved


def _editable(session: Session, ctx: Context, name: str) -> SavedScenario:
    saved = _visible(session, ctx, name)
    if not ctx.actor.can_edit(saved.organisation_id):
        raise NotAuthorized("only editors of the scenario's organisation may change it")
    return saved


def _set_sharing(session: Session, saved: SavedScenario, visibility: Visibility,
                 shared_with: list[str]) -> None:
    visibility = Visibility(visibility)
    if visibility != Visibility.SHARED and shared_with:
        raise InvalidInput("'shared_with' needs visibility 'shared'", field="shared_with")
    saved.visibility = visibility.value
    if saved.id is None:
        session.flush()
    session.execute(delete(ScenarioShare).where(ScenarioShare.scenario_id == saved.id))
    for name in dict.fromkeys(shared_with):
        try:
            organisation = organisation_get(session, name)
        except NotFound:
            raise InvalidInput("no organisation or network '{name}'", field="shared_with",
                               name=name) from None
        session.add(ScenarioShare(scenario_id=saved.id, organisation_id=organisation.id))
