"""Following records, commenting on them, and each user's notification feed.

Followers of a record hear (in their feed, and by e-mail when SMTP is configured) of its new
comments and, for projects, its stage changes. Commenting on a record follows it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import InvalidInput, NotAuthorized, TooLarge
from bylab.registry.actions import record_get, record_path
from bylab.registry.notify import notify_followers
from bylab.registry.models import (
    Challenge,
    Comment,
    Follow,
    Notification,
    Project,
    Solution,
    TargetType,
)

MODEL_BY_TARGET: dict[str, type[Project | Challenge | Solution]] = {
    TargetType.PROJECT: Project, TargetType.CHALLENGE: Challenge,
    TargetType.SOLUTION: Solution}
MAX_COMMENT_CHARS = 10_000


@dataclass(frozen=True)
class Target:
    type: str
    id: str
    name: str
    title: str


def _target(session: Session, target_type: str, name_or_id: str) -> Target:
    if target_type not in MODEL_BY_TARGET:
        raise InvalidInput("the type to follow must be one of: {types}", field="type",
                           types=", ".join(MODEL_BY_TARGET))
    record = record_get(session, MODEL_BY_TARGET[target_type], name_or_id, target_type)
    title = record.title.get("en") or next(iter(record.title.values()), record.name)
    return Target(target_type, record.id, record.name, title)


def _user_id(ctx: Context) -> str:
    if not ctx.actor.user_id:
        raise NotAuthorized("log in to follow or comment")
    return ctx.actor.user_id


def follow(ctx: Context, target_type: str, name_or_id: str) -> Target:
    """Follow a record (following it again changes nothing)."""
    user_id = _user_id(ctx)
    with ctx.db.session() as session:
        target = _target(session, target_type, name_or_id)
        _follow(session, user_id, target)
    return target


def _follow(session: Session, user_id: str, target: Target) -> None:
    follow_in(session, user_id, target.type, target.id)


def follow_in(session: Session, user_id: str, target_type: str, target_id: str) -> None:
    """The user follows the record from now on (in the caller's transaction)."""
    if session.get(Follow, (user_id, target_type, target_id)) is None:
        session.add(Follow(user_id=user_id, target_type=target_type, target_id=target_id))


def unfollow(ctx: Context, target_type: str, name_or_id: str) -> Target:
    user_id = _user_id(ctx)
    with ctx.db.session() as session:
        target = _target(session, target_type, name_or_id)
        session.execute(delete(Follow).where(
            Follow.user_id == user_id, Follow.target_type == target.type,
            Follow.target_id == target.id))
    return target


def is_following(ctx: Context, target_type: str, target_id: str) -> bool:
    if not ctx.actor.user_id:
        return False
    with ctx.db.session() as session:
        return session.get(Follow, (ctx.actor.user_id, target_type, target_id)) is not None


def comment_add(ctx: Context, target_type: str, name_or_id: str, body: str) -> Comment:
    """Comment on a record (logged-in users); the author follows it from then on and its
    other followers are notified."""
    user_id = _user_id(ctx)
    text = body.strip()
    if not text:
        raise InvalidInput("write something to comment", field="body")
    if len(text) > MAX_COMMENT_CHARS:
        raise TooLarge("a comment holds at most {most} characters", field="body",
                       most=MAX_COMMENT_CHARS)
    with ctx.db.session() as session:
        target = _target(session, target_type, name_or_id)
        comment = Comment(target_type=target.type, target_id=target.id,
                          author=ctx.actor.username or "", body=text)
        session.add(comment)
        _follow(session, user_id, target)
        notify_followers(ctx, session, target.type, target.id,
                         f"{comment.author} commented on {target.type} '{target.title}'",
                         record_path(target.type, target.name))
    return comment


def comments_of(ctx: Context, target_type: str, name_or_id: str) -> list[Comment]:
    """A record's comments, oldest first."""
    with ctx.db.session() as session:
        target = _target(session, target_type, name_or_id)
        return list(session.scalars(select(Comment).where(
            Comment.target_type == target.type, Comment.target_id == target.id)
            .order_by(Comment.id)))


def notification_feed(ctx: Context, unread_only: bool = False,
                      limit: int = 100) -> list[Notification]:
    """The actor's notifications, newest first."""
    user_id = _user_id(ctx)
    with ctx.db.session() as session:
        query = select(Notification).where(Notification.user_id == user_id)
        if unread_only:
            query = query.where(Notification.read.is_(False))
        return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def notifications_mark_read(ctx: Context) -> int:
    """Mark all the actor's notifications read; how many were unread."""
    user_id = _user_id(ctx)
    with ctx.db.session() as session:
        result = session.execute(update(Notification).where(
            Notification.user_id == user_id, Notification.read.is_(False)).values(read=True))
        return result.rowcount  # type: ignore[attr-defined,no-any-return]


def target_paths(ctx: Context, notifications: list[Notification]) -> dict[str, str]:
    """Target id -> the address of its page, for the records the notifications are about."""
    paths = {}
    with ctx.db.session() as session:
        for target_type, model in MODEL_BY_TARGET.items():
            ids = {n.target_id for n in notifications if n.target_type == target_type}
            for record_id, name in session.execute(
                    select(model.id, model.name).where(model.id.in_(ids))):
                paths[record_id] = record_path(target_type, name)
    return paths
