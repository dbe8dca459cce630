"""Projects (cases), their partners and stage history, challenges and solutions.

Actors are the organisations of ``bylab.auth``; records point to them by id. Places are
kept as place ids (``NO-1506``) without a foreign key, as other capabilities do."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
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
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    domains: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    kpi_codes: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(Text, default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)


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
