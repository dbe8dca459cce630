"""Matching: for a challenge, the projects, solutions and actors elsewhere that fit it; for a
project, who else does the same. Every match lists its reasons.

A source (challenge or project) is reduced to a profile: its tagged terms, the taxonomy terms
found in its text, the domains of its KPIs, its places and its owner. Each candidate record
owned by another organisation scores:

- ``domain``/``technology``: 2.0 per shared tagged term;
- ``term``: 1.5 per taxonomy term of the source's text the candidate is tagged with, 1.0 when
  one of the term's phrases (any language) is in the candidate's text;
- ``kpi``: 1.0 per KPI of the challenge whose category falls in one of the candidate's domains;
- only when one of the above holds (relevance first), ``stage``: +1.0 for a project in
  operation or scaled, +0.5 for a pilot; ``deployed``: +0.5 for a solution deployed in a
  project; ``size``: +0.5 when a place of the candidate is in the same population band as a
  place of the source (bands of ``bylab.indicators.compare``), or else within half to double
  its area;
- ``embedding`` (with the embedding channel on, ``bylab.registry.embeddings``): +0.5 × the
  cosine similarity of the two records' sentence embeddings when it reaches 0.5; alone (no
  reason above) a candidate is kept only from 0.8. Whole records compare less reliably than
  a query: on the evaluation records (tests/data/registry/search_eval.yaml) pairs sharing no
  domain reach 0.59 at the 90th percentile and 0.78 at most, texts in one language scoring
  higher whatever their subject, so similarity mostly reorders what the taxonomy found.

Actors are the owners and partners of the matched records: an owner counts its record's
score, a partner three quarters of it; an actor scores its best such count plus 0.25 for each
further matched record. Ties list projects, then solutions, then actors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.auth.models import Organisation
from bylab.core import Context
from bylab.indicators.compare import band_label, population_band, populations
from bylab.indicators.kpis import Kpi, u4ssc_kpis
from bylab.places.models import Place
from bylab.registry.actions import record_get
from bylab.registry.embeddings import VectorIndex, vector_index
from bylab.registry.models import Challenge, Project, ProjectPartner, Solution, Stage
from bylab.registry.reasons import Reason, embedding_reason, joined
from bylab.registry.taxonomy import (
    LANGUAGES,
    TermMatch,
    phrase_in,
    phrase_words,
    taxonomy,
    terms_in,
    words_of,
)

SHARED_TAG_SCORE = 2.0
TERM_TAGGED_SCORE = 1.5
TERM_IN_TEXT_SCORE = 1.0
KPI_SCORE = 1.0
STAGE_SCORES = {Stage.OPERATION: 1.0, Stage.SCALED: 1.0, Stage.PILOT: 0.5}
DEPLOYED_SCORE = 0.5
SIZE_SCORE = 0.5
PARTNER_SHARE = 0.75  # a partner counts for less than the record's owner
FURTHER_RECORD_SCORE = 0.25
TYPE_ORDER = {"project": 0, "solution": 1, "actor": 2}
AREA_RATIO = 2.0  # "similar area": within half to double
EMBEDDING_WEIGHT = 0.5
MIN_SIMILARITY = 0.5  # counts beside another reason
ALONE_SIMILARITY = 0.8  # counts on its own


@dataclass
class Match:
    type: str  # project, solution or actor
    id: str
    name: str
    title: str
    score: float = 0.0
    reasons: list[Reason] = field(default_factory=list)
    organisation: str = ""  # the owner's name (for actors: the actor's kind)

    @property
    def reason(self) -> str:
        return joined(self.reasons)


@dataclass(frozen=True)
class Profile:
    """What a source record is about, and whose it is."""

    id: str
    owner_id: str
    tags: frozenset[str]
    text_terms: tuple[TermMatch, ...]
    kpis: tuple[Kpi, ...]
    place_ids: frozenset[str]
    similarity: dict[str, float] = field(default_factory=dict)  # record id -> embeddings'


@cache
def kpis_by_code() -> dict[str, Kpi]:
    return {kpi.code: kpi for kpi in u4ssc_kpis()}


@cache
def kpi_domains(code: str) -> frozenset[str]:
    """The taxonomy domains a KPI's category and subdimension name."""
    kpi = kpis_by_code()[code]
    found = terms_in(f"{kpi.category} {kpi.subdimension}")
    return frozenset(match.term.key for match in found if match.term.kind == "domains")


def _title(texts: dict[str, str], lang: str | None) -> str:
    for candidate in (lang, "en", *LANGUAGES):
        if candidate and texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()), "")


def _owner_places(session: Session, organisation_id: str) -> frozenset[str]:
    place_id = session.scalar(select(Organisation.place_id).where(
        Organisation.id == organisation_id))
    return frozenset({place_id} if place_id else ())


def challenge_profile(session: Session, challenge: Challenge) -> Profile:
    text = " ".join([*challenge.title.values(), *challenge.needs.values()])
    return Profile(
        challenge.id, challenge.organisation_id, frozenset(challenge.domains),
        tuple(terms_in(text)),
        tuple(kpis_by_code()[code] for code in challenge.kpi_codes if code in kpis_by_code()),
        _owner_places(session, challenge.organisation_id))


def project_profile(session: Session, project: Project) -> Profile:
    text = " ".join([*project.title.values(), *project.description.values()])
    places = frozenset(project.place_ids) or _owner_places(session, project.organisation_id)
    return Profile(project.id, project.organisation_id,
                   frozenset(project.domains) | frozenset(project.technologies),
                   tuple(terms_in(text)), (), places)


def _relevance(profile: Profile, tags: set[str], text: str, lang: str | None) -> list[Reason]:
    reasons = []
    terms = taxonomy()
    for key in sorted(profile.tags & tags):
        kind = "domain" if terms[key].kind == "domains" else "technology"
        reasons.append(Reason(kind, f"shared_{kind}",
                              {kind: key, "label": terms[key].label(lang or "en")},
                              SHARED_TAG_SCORE))
    text_words = words_of(text)
    for match in profile.text_terms:
        if match.term.key in profile.tags & tags:
            continue
        label = match.term.label(lang or "en")
        params = {"phrase": match.phrase, "label": label}
        if match.term.key in tags:
            reasons.append(Reason("term", "shared_term", params, TERM_TAGGED_SCORE))
        elif any(phrase_in(phrase_words(phrase), text_words)
                 for _lang, phrase in match.term.all_phrases()):
            reasons.append(Reason("term", "term_in_text", params, TERM_IN_TEXT_SCORE))
    for kpi in profile.kpis:
        shared = kpi_domains(kpi.code) & tags
        if shared:
            labels = ", ".join(terms[key].label(lang or "en") for key in sorted(shared))
            reasons.append(Reason("kpi", "kpi", {"code": kpi.code, "name": kpi.name(),
                                                 "labels": labels}, KPI_SCORE))
    return reasons


def _relevant(profile: Profile, record: Project | Solution, lang: str | None) -> list[Reason]:
    """The reasons the candidate is about the same thing, the embeddings' among them."""
    reasons = _relevance(profile, set(record.domains) | set(record.technologies),
                         record.search_text, lang)
    similarity = profile.similarity.get(record.id)
    if similarity is not None and similarity >= (MIN_SIMILARITY if reasons
                                                 else ALONE_SIMILARITY):
        reasons.append(embedding_reason(similarity, round(EMBEDDING_WEIGHT * similarity, 3)))
    return reasons


def _score(reasons: Iterable[Reason]) -> float:
    return round(sum(reason.score for reason in reasons), 3)


class _Sizes:
    """Population band (else area) of places, looked up once per matching run."""

    def __init__(self, session: Session, ctx: Context, place_ids: set[str]) -> None:
        self.people = populations(session, ctx, place_ids, None)
        self.area: dict[str, float] = {
            place_id: area for place_id, area in session.execute(
                select(Place.id, Place.area_km2).where(
                    Place.id.in_(place_ids), Place.area_km2.is_not(None)))}

    def similar(self, ours: Iterable[str], theirs: Iterable[str]) -> Reason | None:
        ours, theirs = list(ours), list(theirs)
        for mine in ours:
            for other in theirs:
                if mine in self.people and other in self.people:
                    band = population_band(self.people[mine])
                    if band == population_band(self.people[other]):
                        return Reason("size", "similar_size", {
                            "other": other, "mine": mine, "band": band_label(band)}, SIZE_SCORE)
                elif mine in self.area and other in self.area and (
                        1 / AREA_RATIO <= self.area[other] / self.area[mine] <= AREA_RATIO):
                    return Reason("size", "similar_area", {
                        "other": other, "other_km2": self.area[other], "mine": mine,
                        "mine_km2": self.area[mine]}, SIZE_SCORE)
        return None


def _record_matches(session: Session, ctx: Context, profile: Profile,
                    lang: str | None) -> list[Match]:
    projects = list(session.scalars(select(Project).where(
        Project.organisation_id != profile.owner_id, Project.id != profile.id)))
    solutions = list(session.scalars(select(Solution).where(
        Solution.organisation_id != profile.owner_id)))
    sizes = _Sizes(session, ctx, set(profile.place_ids).union(
        *(project.place_ids for project in projects)))
    owners = {org_id: name for org_id, name in session.execute(
        select(Organisation.id, Organisation.name))}
    matches = []
    for project in projects:
        reasons = _relevant(profile, project, lang)
        if not reasons:
            continue
        if project.stage in STAGE_SCORES:
            reasons.append(Reason("stage", "stage", {"stage": project.stage},
                                  STAGE_SCORES[Stage(project.stage)]))
        if size := sizes.similar(profile.place_ids, project.place_ids):
            reasons.append(size)
        matches.append(Match("project", project.id, project.name, _title(project.title, lang),
                             _score(reasons), reasons, owners[project.organisation_id]))
    for solution in solutions:
        reasons = _relevant(profile, solution, lang)
        if not reasons:
            continue
        if solution.project_ids:
            reasons.append(Reason("deployed", "deployed", {"count": len(solution.project_ids)},
                                  DEPLOYED_SCORE))
        matches.append(Match("solution", solution.id, solution.name,
                             _title(solution.title, lang), _score(reasons), reasons,
                             owners[solution.organisation_id]))
    return matches


def _actor_matches(session: Session, profile: Profile, records: list[Match]) -> list[Match]:
    """Owners and partners of the matched records, best record first."""
    organisations = {org.id: org for org in session.scalars(select(Organisation))}
    by_name = {org.name: org for org in organisations.values()}
    roles: dict[str, list[tuple[float, Reason]]] = {}
    partner_rows = session.execute(select(ProjectPartner).where(ProjectPartner.project_id.in_(
        [match.id for match in records if match.type == "project"]))).scalars()
    for record in records:
        owner = by_name[record.organisation]
        code = "offers_solution" if record.type == "solution" else "runs_project"
        roles.setdefault(owner.id, []).append(
            (record.score, Reason("owner", code, {"title": record.title})))
    record_by_id = {match.id: match for match in records}
    for partner in partner_rows:
        record = record_by_id[partner.project_id]
        reason = (Reason("partner", "partner_role", {"title": record.title, "role": partner.role})
                  if partner.role else Reason("partner", "partner", {"title": record.title}))
        roles.setdefault(partner.organisation_id, []).append(
            (record.score * PARTNER_SHARE, reason))
    actors = []
    for org_id, held in roles.items():
        if org_id == profile.owner_id:
            continue
        held.sort(key=lambda pair: -pair[0])
        score = held[0][0] + FURTHER_RECORD_SCORE * (len(held) - 1)
        org = organisations[org_id]
        actors.append(Match("actor", org.id, org.name, org.title, round(score, 3),
                            [reason for _score, reason in held], org.kind))
    return actors


def _with_similarity(session: Session, vectors: VectorIndex | None,
                     profile: Profile) -> Profile:
    """The profile with its record's similarity to every project and solution (none when
    embeddings are off or its vector is not there)."""
    source = vectors.vector_of(profile.id) if vectors else None
    if vectors is None or source is None:
        return profile
    candidates = [*session.scalars(select(Project.id)), *session.scalars(select(Solution.id))]
    return replace(profile, similarity=vectors.similarities(source, candidates))


def _ranked(matches: list[Match], limit: int) -> list[Match]:
    matches.sort(key=lambda match: (-match.score, TYPE_ORDER[match.type], match.title))
    return matches[:limit]


def challenge_matches(ctx: Context, name_or_id: str, lang: str | None = None,
                      limit: int = 30) -> list[Match]:
    """Projects, solutions and actors of other organisations that fit the challenge, best
    first, each with its reasons (see the module's description for the scores)."""
    vectors = vector_index(ctx)
    with ctx.db.session() as session:
        challenge = record_get(session, Challenge, name_or_id, "challenge")
        profile = _with_similarity(session, vectors, challenge_profile(session, challenge))
        records = _record_matches(session, ctx, profile, lang)
        return _ranked(records + _actor_matches(session, profile, records), limit)


def project_similar(ctx: Context, name_or_id: str, lang: str | None = None,
                    limit: int = 30) -> list[Match]:
    """Who else does this: projects, solutions and actors of other organisations like the
    project, best first, with reasons."""
    vectors = vector_index(ctx)
    with ctx.db.session() as session:
        project = record_get(session, Project, name_or_id, "project")
        profile = _with_similarity(session, vectors, project_profile(session, project))
        records = _record_matches(session, ctx, profile, lang)
        return _ranked(records + _actor_matches(session, profile, records), limit)
