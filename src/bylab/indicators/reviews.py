"""Review and sign-off of KPI values, as in U4SSC verification.

A verifier is a named user who is a system administrator or an editor (or admin) of an
organisation whose place is the value's place or a place above it (a county's organisation
may verify its municipalities). They approve a value or question it with a comment; a question
needs the comment. The review records the digest of the value's inputs
(``provenance['inputs_sha256']``: definition file, dataset ids and versions, source rows and
input values). When the value is recomputed from other inputs the digests differ and the
review reads as ``invalidated``; it is kept for the record, and a new review may be given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.auth.models import Organisation
from bylab.core import Context
from bylab.errors import InvalidInput, NotAuthorized
from bylab.indicators.actions import indicator_value_show, stored_kpi_code, stored_values
from bylab.indicators.models import IndicatorReview, IndicatorValue, ValueStatus, Verdict
from bylab.places.models import Place

CURRENT = "current"
INVALIDATED = "invalidated"


@dataclass(frozen=True)
class ReviewState:
    """A review with whether it still holds for the stored value."""

    id: int
    kpi_code: str
    place_id: str
    period: str
    verdict: str
    comment: str
    value: float
    inputs_sha256: str
    reviewer: str
    created_at: datetime
    state: str  # current | invalidated
    invalidated_because: str

    @classmethod
    def of(cls, review: IndicatorReview, stored: IndicatorValue | None) -> ReviewState:
        because = _invalidation(review, stored)
        return cls(review.id, review.kpi_code, review.place_id, review.period, review.verdict,
                   review.comment, review.value, review.inputs_sha256, review.reviewer,
                   review.created_at, INVALIDATED if because else CURRENT, because)


def _invalidation(review: IndicatorReview, stored: IndicatorValue | None) -> str:
    if stored is None or stored.status != ValueStatus.COMPUTED:
        return "the value is no longer computed"
    if stored.provenance.get("inputs_sha256") != review.inputs_sha256:
        return "the value's inputs changed since the review (new data or definition)"
    return ""


def review_add(ctx: Context, kpi: str, place: str, period: str, verdict: Verdict,
               comment: str = "") -> ReviewState:
    """Approve or question one stored, computed value you may see (see module docstring)."""
    if ctx.actor.user_id is None or not ctx.actor.username:
        raise NotAuthorized("a review needs a named verifier: log in as a user")
    comment = comment.strip()
    if verdict == Verdict.QUESTION and not comment:
        raise InvalidInput("a question needs a comment saying what is doubtful",
                           field="comment")
    if len(comment) > 5000:
        raise InvalidInput("the comment is longer than 5000 characters", field="comment")
    stored = indicator_value_show(ctx, kpi, place, period)  # NotFound when hidden
    if stored.status != ValueStatus.COMPUTED or stored.value is None:
        raise InvalidInput("{kpi} has no value for {place} in {period} to review", field="period",
                           kpi=stored.kpi_code, place=stored.place_id, period=stored.period)
    if "inputs_sha256" not in stored.provenance:
        raise InvalidInput("this value was computed before reviews existed; run "
                           "`bylab indicators compute` first", field="period")
    with ctx.db.session() as session:
        _check_may_review(ctx, session, stored.place_id)
        review = IndicatorReview(
            kpi_code=stored.kpi_code, place_id=stored.place_id, period=stored.period,
            verdict=Verdict(verdict).value, comment=comment, value=stored.value,
            inputs_sha256=stored.provenance["inputs_sha256"], reviewer=ctx.actor.username,
            reviewer_id=ctx.actor.user_id)
        session.add(review)
        session.flush()
        session.expunge(review)
    return ReviewState.of(review, stored)


def _check_may_review(ctx: Context, session: Session, place_id: str) -> None:
    if ctx.actor.is_sysadmin:
        return
    owners = session.scalars(select(Organisation.id).where(
        Organisation.place_id.in_(_place_and_ancestors(session, place_id))))
    if not any(ctx.actor.can_edit(organisation_id) for organisation_id in owners):
        raise NotAuthorized("only editors of an organisation of {place} or a place above it "
                            "may review its values", place=place_id)


def _place_and_ancestors(session: Session, place_id: str) -> list[str]:
    chain = [place_id]
    place = session.get(Place, place_id)
    while place is not None and place.parent_id and place.parent_id not in chain:
        chain.append(place.parent_id)
        place = session.get(Place, place.parent_id)
    return chain


def review_list(ctx: Context, place: str | None = None, kpi: str | None = None,
                period: str | None = None) -> list[ReviewState]:
    """Reviews of the values you may see (newest first), each marked current or
    invalidated against the stored value now."""
    statement = select(IndicatorReview).order_by(IndicatorReview.created_at.desc(),
                                                 IndicatorReview.id.desc())
    if place:
        statement = statement.where(IndicatorReview.place_id == place.strip().upper())
    if period:
        statement = statement.where(IndicatorReview.period == period.strip())
    with ctx.db.session() as session:
        if kpi:
            statement = statement.where(IndicatorReview.kpi_code ==
                                        stored_kpi_code(session, kpi))
        reviews = list(session.scalars(statement))
        values = {(item.kpi_code, item.place_id, item.period): item for item in
                  stored_values(session, ctx, place, kpi, period, include_missing=True)}
        session.expunge_all()
    return [ReviewState.of(review, values.get(_key(review))) for review in reviews
            if _key(review) in values or ctx.actor.is_sysadmin]


def _key(review: IndicatorReview) -> tuple[str, str, str]:
    return review.kpi_code, review.place_id, review.period


def sign_off(reviews: list[ReviewState]) -> ReviewState | None:
    """The review that stands for a value: its newest current review, if any."""
    current = [review for review in reviews if review.state == CURRENT]
    return current[0] if current else None
