"""Load the registry's seed (``seed.yaml``): real initiatives from the public articles bylab
was conceived from, with the organisations they need. Running it again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from typing import Any

import yaml
from sqlalchemy import select

from bylab.auth.actions import organisation_create
from bylab.auth.models import Organisation, OrganisationKind
from bylab.core import Context
from bylab.errors import NotAuthorized
from bylab.registry.actions import (
    ChallengeInput,
    PartnerInput,
    ProjectInput,
    challenge_create,
    project_create,
)
from bylab.registry.embeddings import Progress, embed_pending, embeddings_active
from bylab.registry.models import Challenge, Project, Stage
from bylab.registry.relations import relation_add, relation_list


@dataclass
class SeedReport:
    organisations: int = 0
    projects: int = 0
    challenges: int = 0
    relations: int = 0

    def summary(self) -> str:
        return (f"created {self.organisations} organisations, {self.projects} projects, "
                f"{self.challenges} challenges, {self.relations} relations")


def seed_spec() -> dict[str, Any]:
    return yaml.safe_load(files("bylab.registry").joinpath("seed.yaml").read_text("utf-8"))


def _existing_names(ctx: Context, model: type[Organisation | Project | Challenge]) -> set[str]:
    with ctx.db.session() as session:
        return set(session.scalars(select(model.name)))


def _as_date(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _project_input(entry: dict[str, Any]) -> ProjectInput:
    return ProjectInput(
        name=entry["name"], title=entry["title"], description=entry.get("description", {}),
        domains=entry.get("domains", []), technologies=entry.get("technologies", []),
        place_ids=entry.get("places", []), links=entry.get("links", []),
        partners=[PartnerInput(p["organisation"], p.get("role", ""))
                  for p in entry.get("partners", [])],
        stage=Stage(entry.get("stage", Stage.IDEA)), as_of=_as_date(entry.get("as_of")),
        source=entry.get("source", ""),
        success_factors=entry.get("success_factors", {}),
        lessons_learned=entry.get("lessons_learned", {}))


def _challenge_input(entry: dict[str, Any]) -> ChallengeInput:
    return ChallengeInput(
        name=entry["name"], title=entry["title"], needs=entry.get("needs", {}),
        constraints=entry.get("constraints", {}),
        deadline=_as_date(entry.get("deadline")), domains=entry.get("domains", []),
        kpi_codes=entry.get("kpi_codes", []), as_of=_as_date(entry.get("as_of")),
        source=entry.get("source", ""))


def registry_seed(ctx: Context, progress: Progress | None = None) -> SeedReport:
    """Create the seed's organisations, projects, challenges and actor relations that do not
    exist yet (system administrators only), and compute the pending vectors before returning
    when embeddings are on (``progress`` hears (done, total)). Existing records, matched by
    name, are left as they are."""
    if not ctx.actor.is_sysadmin:
        raise NotAuthorized("only a system administrator may load the registry seed")
    spec, report = seed_spec(), SeedReport()
    known = _existing_names(ctx, Organisation)
    for entry in spec["organisations"]:
        if entry["name"] not in known:
            organisation_create(ctx, entry["name"], entry["title"],
                                OrganisationKind(entry["kind"]), place_id=entry.get("place"))
            report.organisations += 1
    known = _existing_names(ctx, Project)
    for entry in spec.get("projects", []):
        if entry["name"] not in known:
            project_create(ctx, entry["organisation"], _project_input(entry))
            report.projects += 1
    known = _existing_names(ctx, Challenge)
    for entry in spec.get("challenges", []):
        if entry["name"] not in known:
            challenge_create(ctx, entry["organisation"], _challenge_input(entry))
            report.challenges += 1
    known_relations = {(view.subject.name, view.kind.value, view.object.name)
                       for view in relation_list(ctx)}
    for entry in spec.get("relations", []):
        if (entry["organisation"], entry["relation"], entry["other"]) not in known_relations:
            relation_add(ctx, entry["organisation"], entry["relation"], entry["other"],
                         entry.get("note", ""))
            report.relations += 1
    if embeddings_active(ctx):
        embed_pending(ctx, progress=progress)
    return report
