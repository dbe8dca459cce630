"""Responses to challenges: the challenger / labbers / receivers pattern. Members of other
organisations answer a challenge with an idea, a case (one of their projects, or any project
they know of) or a solution; the challenge owner's editors shortlist, decline or accept each.
Followers of the challenge hear of every response and of every decision."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.auth.actions import organisation_get
from bylab.auth.models import Organisation
from bylab.core import Context
from bylab.errors import InvalidInput, NotAuthorized, NotFound
from bylab.registry.actions import record_get, record_path
from bylab.registry.collaboration import follow_in
from bylab.registry.models import (
    Challenge,
    ChallengeResponse,
    Project,
    ResponseKind,
    ResponseStatus,
    Solution,
)
from bylab.registry.notify import notify_followers
from bylab.storage.base import utcnow

MAX_RESPONSE_CHARS = 10_000


@dataclass(frozen=True)
class ResponseInput:
    kind: ResponseKind
    text: str = ""
    project: str = ""  # name or id, for a case
    solution: str = ""  # name or id, for a solution
    organisation: str = ""  # the responding organisation; "" for the actor's only one


@dataclass(frozen=True)
class ResponseView:
    response: ChallengeResponse
    organisation: Organisation
    project: Project | None
    solution: Solution | None


def _title(record: Challenge | Project | Solution) -> str:
    return record.title.get("en") or next(iter(record.title.values()), record.name)


def _responder(session: Session, ctx: Context, challenge: Challenge,
               organisation: str) -> Organisation:
    """The organisation the actor responds for: one they are a member of, not the owner."""
    if ctx.actor.user_id is None:
        raise NotAuthorized("log in to respond to a challenge")
    candidates = sorted(ctx.actor.member_org_ids - {challenge.organisation_id})
    if organisation:
        chosen = organisation_get(session, organisation)
        if chosen.id not in ctx.actor.member_org_ids:
            raise NotAuthorized("you are not a member of '{organisation}'",
                                organisation=chosen.name)
        if chosen.id == challenge.organisation_id:
            raise InvalidInput("the challenge owner does not respond to its own challenge",
                               field="organisation")
        return chosen
    if len(candidates) != 1:
        if candidates:
            raise InvalidInput("say which of your organisations responds", field="organisation")
        raise InvalidInput("only members of an organisation other than the challenge owner "
                           "may respond", field="organisation")
    return session.get_one(Organisation, candidates[0])


def _linked(session: Session, data: ResponseInput) -> tuple[str | None, str | None]:
    kind = ResponseKind(data.kind)
    if kind == ResponseKind.CASE and not data.project.strip():
        raise InvalidInput("a case names the project it is", field="project")
    if kind == ResponseKind.SOLUTION and not data.solution.strip():
        raise InvalidInput("name the solution you offer", field="solution")
    project = (record_get(session, Project, data.project.strip(), "project").id
               if kind == ResponseKind.CASE else None)
    solution = (record_get(session, Solution, data.solution.strip(), "solution").id
                if kind == ResponseKind.SOLUTION else None)
    return project, solution


def _checked_kind(kind: str) -> ResponseKind:
    if kind not in set(ResponseKind):
        raise InvalidInput("the kind of response must be one of: {kinds}", field="kind",
                           kinds=", ".join(ResponseKind))
    return ResponseKind(kind)


def response_add(ctx: Context, challenge_ref: str, data: ResponseInput) -> ChallengeResponse:
    """Respond to a challenge (logged-in members of another organisation); the responder
    follows the challenge from then on and its followers are notified."""
    kind = _checked_kind(data.kind)
    text = data.text.strip()
    if kind == ResponseKind.IDEA and not text:
        raise InvalidInput("describe the idea", field="text")
    if len(text) > MAX_RESPONSE_CHARS:
        raise InvalidInput("a response holds at most {most} characters", field="text",
                           most=MAX_RESPONSE_CHARS)
    with ctx.db.session() as session:
        challenge = record_get(session, Challenge, challenge_ref, "challenge")
        responder = _responder(session, ctx, challenge, data.organisation.strip())
        project_id, solution_id = _linked(session, data)
        response = ChallengeResponse(
            challenge_id=challenge.id, organisation_id=responder.id, kind=kind, text=text,
            project_id=project_id, solution_id=solution_id, created_by=ctx.actor.username or "")
        session.add(response)
        follow_in(session, ctx.actor.user_id or "", "challenge", challenge.id)
        notify_followers(ctx, session, "challenge", challenge.id,
                         f"{responder.title} responded to challenge '{_title(challenge)}' "
                         f"with {'an' if kind == ResponseKind.IDEA else 'a'} {kind}",
                         record_path("challenge", challenge.name))
    return response


def response_status_set(ctx: Context, challenge_ref: str, response_id: int,
                        status: str) -> ChallengeResponse:
    """Shortlist, decline or accept a response (editors of the challenge owner); who and
    when are kept, and the challenge's followers are notified."""
    if status not in set(ResponseStatus):
        raise InvalidInput("status is one of {statuses}", field="status",
                           statuses=", ".join(ResponseStatus))
    with ctx.db.session() as session:
        challenge = record_get(session, Challenge, challenge_ref, "challenge")
        if not ctx.actor.can_edit(challenge.organisation_id):
            raise NotAuthorized("only editors of the challenge owner decide on responses")
        response = session.get(ChallengeResponse, response_id)
        if response is None or response.challenge_id != challenge.id:
            raise NotFound("no response {response} to this challenge", field="response",
                           response=response_id)
        response.status = ResponseStatus(status)
        response.status_by = ctx.actor.username or ""
        response.status_at = utcnow()
        responder = session.get_one(Organisation, response.organisation_id)
        notify_followers(ctx, session, "challenge", challenge.id,
                         f"{ctx.actor.username} marked the response of {responder.title} to "
                         f"challenge '{_title(challenge)}' {status}",
                         record_path("challenge", challenge.name))
    return response


def responses_of(ctx: Context, challenge_ref: str) -> list[ResponseView]:
    """A challenge's responses, oldest first, with who responded and what they link."""
    with ctx.db.session() as session:
        challenge = record_get(session, Challenge, challenge_ref, "challenge")
        responses = session.scalars(select(ChallengeResponse).where(
            ChallengeResponse.challenge_id == challenge.id).order_by(ChallengeResponse.id))
        return [ResponseView(
            response, session.get_one(Organisation, response.organisation_id),
            session.get(Project, response.project_id) if response.project_id else None,
            session.get(Solution, response.solution_id) if response.solution_id else None)
            for response in responses]
