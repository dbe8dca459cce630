"""Projects (cases), their partners and stage history, challenges and solutions.

Actors are the organisations of ``bylab.auth``; records point to them by id. Places are
kept as place ids (``NO-1506``) without a foreign key, as other capabilities do."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bylab.storage.base import Base, JsonColumn, new_id, utcnow


class Stage(StrEnum):
    IDEA = "idea"
    PILOT = "pilot"
    OPERATION = "operation"
    SCALED = "scaled"
    STOPPED = "stopped"  # the history entry says why


class Project(Base):
    """A project or case: what an organisation and its partners did, where, and how far it got."""

    __tablename__ = "registry_projects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    title: Mapped[dict[str, str]] = mapped_column(JsonColumn, default=dict)  # by language
    description: Mapped[dict[str, str]] = mapped_column(JsonColumn, default=dict)
    domains: Mapped[list[str]] = mapped_column(JsonColumn, default=list)  # taxonomy keys
    technologies: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    place_ids: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    links: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    budget_amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), nullable=True)
    budget_currency: Mapped[str] = mapped_column(String(3), default="")  # ISO 4217
    success_factors: Mapped[dict[str, list[str]]] = mapped_column(JsonColumn, default=dict)
    lessons_learned: Mapped[dict[str, list[str]]] = mapped_column(JsonColumn, default=dict)
    stage: Mapped[str] = mapped_column(String(20), default=Stage.IDEA)
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)  # facts true on this date
    source: Mapped[str] = mapped_column(Text, default="")
    search_text: Mapped[str] = mapped_column(Text, default="")  # folded, for text search
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectPartner(Base):
    """An organisation taking part in a project, with its role in its own words."""

    __tablename__ = "registry_project_partners"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("registry_projects.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(300), default="")


class StageChange(Base):
    """One entry of a project's stage history: who moved it to which stage, when and why."""

    __tablename__ = "registry_stage_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("registry_projects.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(100), default="")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Challenge(Base):
    """A need an organisation wants help with, by a deadline, tied to domains and KPIs."""

    __tablename__ = "registry_challenges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    title: Mapped[dict[str, str]] = mapped_column(JsonColumn, default=dict)
    needs: Mapped[dict[str, str]] = mapped_column(JsonColumn, default=dict)  # by language
    constraints: Mapped[dict[str, str]] = mapped_column(JsonColumn, default=dict)
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    domains: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    kpi_codes: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(Text, default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)


class FundingLine(Base):
    """Money a project got: from a funder (an organisation of the instance, or a name), under
    a programme, for some years."""

    __tablename__ = "registry_funding_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("registry_projects.id", ondelete="CASCADE"), index=True)
    funder_organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), nullable=True)
    funder_name: Mapped[str] = mapped_column(String(300), default="")
    programme: Mapped[str] = mapped_column(String(300), default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="")  # ISO 4217
    year_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    year_to: Mapped[int | None] = mapped_column(Integer, nullable=True)


class KpiResult(Base):
    """A result a project claims on a KPI at a place: the periods before and after it. The
    values come from the indicator engine; ``reported_*`` hold what the project itself
    reports where the engine has no value, kept apart from computed ones."""

    __tablename__ = "registry_kpi_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("registry_projects.id", ondelete="CASCADE"), index=True)
    kpi_code: Mapped[str] = mapped_column(String(40))
    place_id: Mapped[str] = mapped_column(String(64))
    before_period: Mapped[str] = mapped_column(String(16))
    after_period: Mapped[str] = mapped_column(String(16))
    reported_before: Mapped[float | None] = mapped_column(Float, nullable=True)
    reported_after: Mapped[float | None] = mapped_column(Float, nullable=True)
    reported_unit: Mapped[str] = mapped_column(String(80), default="")
    reported_source: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectDocument(Base):
    """A file attached to a project (report, presentation, photo); the bytes live in the
    registry's files folder, named by the document id."""

    __tablename__ = "registry_project_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("registry_projects.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(5), default="")
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)


class ResponseKind(StrEnum):
    IDEA = "idea"
    CASE = "case"  # links a project
    SOLUTION = "solution"  # links a solution


class ResponseStatus(StrEnum):
    OPEN = "open"
    SHORTLISTED = "shortlisted"
    DECLINED = "declined"
    ACCEPTED = "accepted"


class ChallengeResponse(Base):
    """Another organisation's answer to a challenge: an idea, a case (a project) or a
    solution; the challenge owner shortlists, declines or accepts it."""

    __tablename__ = "registry_challenge_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    challenge_id: Mapped[str] = mapped_column(
        ForeignKey("registry_challenges.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    project_id: Mapped[str | None] = mapped_column(
        ForeignKey("registry_projects.id", ondelete="SET NULL"), nullable=True)
    solution_id: Mapped[str | None] = mapped_column(
        ForeignKey("registry_solutions.id", ondelete="SET NULL"), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=ResponseStatus.OPEN)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    status_by: Mapped[str] = mapped_column(String(100), default="")
    status_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Solution(Base):
    """Something an organisation offers, and the projects it is deployed in."""

    __tablename__ = "registry_solutions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    title: Mapped[dict[str, str]] = mapped_column(JsonColumn, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JsonColumn, default=dict)
    domains: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    technologies: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    project_ids: Mapped[list[str]] = mapped_column(JsonColumn, default=list)  # deployed in
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)


class RelationKind(StrEnum):
    """How one actor stands to another: the subject is a member of / partner in / supplier
    to / owned by / funded by the object."""

    MEMBER_OF = "member-of"
    PARTNER_IN = "partner-in"
    SUPPLIER_TO = "supplier-to"
    OWNED_BY = "owned-by"
    FUNDED_BY = "funded-by"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ")


class ActorRelation(Base):
    """A typed relation between two actors (organisations): subject, kind, object."""

    __tablename__ = "registry_actor_relations"

    subject_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    object_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)


class TargetType(StrEnum):
    """The kinds of registry record one can follow and comment on."""

    PROJECT = "project"
    CHALLENGE = "challenge"
    SOLUTION = "solution"


class Follow(Base):
    """A user follows a record: they hear of its comments and stage changes."""

    __tablename__ = "registry_follows"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    target_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    """A comment on a record, by a logged-in user."""

    __tablename__ = "registry_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str] = mapped_column(String(36), index=True)
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """One entry of a user's feed: something happened to a record they follow."""

    __tablename__ = "registry_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str] = mapped_column(String(36))
    message: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    read: Mapped[bool] = mapped_column(Boolean, default=False)


class SearchTerm(Base):
    """Search index: a taxonomy term a record is tagged with or whose phrase is in its text,
    with the score a query naming the term gives the record."""

    __tablename__ = "registry_search_terms"
    # A one-term query reads its best records straight off this index.
    __table_args__ = (Index("ix_registry_search_terms_rank", "term_key", "score", "record_id"),)

    term_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    record_type: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    phrase: Mapped[str] = mapped_column(String(200))  # the label, or the phrase in the text
    lang: Mapped[str] = mapped_column(String(5))
    tagged: Mapped[bool] = mapped_column(Boolean)


class SearchWord(Base):
    """Search index: a word stem of a record's text (stemmed for each of its languages)."""

    __tablename__ = "registry_search_words"

    word: Mapped[str] = mapped_column(String(100), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    record_type: Mapped[str] = mapped_column(String(20))


class SearchVocabulary(Base):
    """Every word stem in the index, once: where typo correction looks for near words."""

    __tablename__ = "registry_search_vocabulary"

    word: Mapped[str] = mapped_column(String(100), primary_key=True)


class SearchVector(Base):
    """Search index: a record's multilingual sentence embedding (``bylab.registry.embeddings``).
    Written pending (no vector) with the record and embedded in the background, so writing a
    record never loads the model. ``text_sha1`` keeps a vector across a reindex when the text
    did not change."""

    __tablename__ = "registry_search_vectors"

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_type: Mapped[str] = mapped_column(String(20))
    text_sha1: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(60))
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32, L2-normalised
    embedded_at: Mapped[float | None] = mapped_column(Float, index=True)  # unix time; None: pending
