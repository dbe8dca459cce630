"""Account actions: organisations, networks, users, roles, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.auth.actor import Actor
from bylab.auth.models import (
    ApiToken,
    Membership,
    NetworkMembership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from bylab.core import Context
from bylab.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from bylab.storage.base import utcnow

_password_hasher = PasswordHasher()
_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
TOKEN_PREFIX = "bylab_"


def check_name(name: str, field: str = "name") -> str:
    """URL-safe names: lowercase letters, digits, - and _ (as CKAN requires)."""
    if not _NAME_PATTERN.match(name):
        raise InvalidInput(
            "must be 2-100 characters: lowercase letters, digits, '-' or '_'", field=field
        )
    return name


def _require_sysadmin(ctx: Context) -> None:
    if not ctx.actor.is_sysadmin:
        raise NotAuthorized("only a system administrator may do this")


def organisation_create(
    ctx: Context,
    name: str,
    title: str,
    kind: OrganisationKind = OrganisationKind.MUNICIPALITY,
    description: str = "",
    place_id: str | None = None,
    website: str | None = None,
) -> Organisation:
    """Create an organisation (municipality, company, academia, network, ...)."""
    _require_sysadmin(ctx)
    check_name(name)
    with ctx.db.session() as session:
        if session.scalar(select(Organisation).where(Organisation.name == name)):
            raise Conflict("an organisation named '{name}' exists already", field="name",
                           name=name)
        organisation = Organisation(
            name=name,
            title=title,
            kind=OrganisationKind(kind),
            description=description,
            place_id=place_id,
            website=website,
        )
        session.add(organisation)
    return organisation


def organisation_get(session: Session, name_or_id: str) -> Organisation:
    organisation = session.scalar(
        select(Organisation).where(
            (Organisation.id == name_or_id) | (Organisation.name == name_or_id)
        )
    )
    if organisation is None:
        raise NotFound("no organisation '{name}'", field="organisation", name=name_or_id)
    return organisation


def organisation_show(ctx: Context, name_or_id: str) -> Organisation:
    with ctx.db.session() as session:
        return organisation_get(session, name_or_id)


def organisation_list(ctx: Context, kind: str | None = None) -> list[Organisation]:
    with ctx.db.session() as session:
        query = select(Organisation).order_by(Organisation.name)
        if kind:
            query = query.where(Organisation.kind == kind)
        return list(session.scalars(query))


def network_add_member(ctx: Context, network: str, member: str) -> None:
    """Make ``member`` part of ``network``: it then sees what is shared with the network."""
    with ctx.db.session() as session:
        network_org = organisation_get(session, network)
        member_org = organisation_get(session, member)
        if not ctx.actor.can_admin(network_org.id):
            raise NotAuthorized("only the network's administrators may add members")
        if network_org.kind != OrganisationKind.NETWORK:
            raise InvalidInput("'{name}' is not a network", field="network", name=network_org.name)
        if session.get(NetworkMembership, (network_org.id, member_org.id)) is None:
            session.add(NetworkMembership(network_id=network_org.id, member_id=member_org.id))


def network_members(ctx: Context, network: str) -> list[Organisation]:
    with ctx.db.session() as session:
        network_org = organisation_get(session, network)
        return list(
            session.scalars(
                select(Organisation)
                .join(NetworkMembership, NetworkMembership.member_id == Organisation.id)
                .where(NetworkMembership.network_id == network_org.id)
                .order_by(Organisation.name)
            )
        )


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise InvalidInput("must be at least 8 characters", field="password")
    return _password_hasher.hash(password)


def user_create(
    ctx: Context,
    username: str,
    password: str,
    email: str = "",
    full_name: str = "",
    is_sysadmin: bool = False,
) -> User:
    _require_sysadmin(ctx)
    check_name(username, "username")
    with ctx.db.session() as session:
        if session.scalar(select(User).where(User.username == username)):
            raise Conflict("a user named '{username}' exists already", field="username",
                           username=username)
        user = User(
            username=username,
            password_hash=hash_password(password),
            email=email,
            full_name=full_name,
            is_sysadmin=is_sysadmin,
        )
        session.add(user)
    return user


def membership_set(ctx: Context, username: str, organisation: str, role: Role) -> None:
    """Give a user a role in an organisation (replacing any role they had there)."""
    with ctx.db.session() as session:
        org = organisation_get(session, organisation)
        if not ctx.actor.can_admin(org.id):
            raise NotAuthorized("only the organisation's administrators may set roles")
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound("no user '{username}'", field="username", username=username)
        membership = session.get(Membership, (user.id, org.id))
        if membership is None:
            session.add(Membership(user_id=user.id, organisation_id=org.id, role=Role(role)))
        else:
            membership.role = Role(role)


def user_authenticate(ctx: Context, username: str, password: str) -> Actor:
    """The actor for a username and password; NotAuthorized if they do not match."""
    with ctx.db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            # Hash anyway so a wrong username takes as long as a wrong password.
            _password_hasher.hash(password)
            raise NotAuthorized("wrong username or password")
        try:
            _password_hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise NotAuthorized("wrong username or password") from None
        if _password_hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _password_hasher.hash(password)
        return actor_for_user(session, user)


def actor_for_user(session: Session, user: User) -> Actor:
    roles = {membership.organisation_id: Role(membership.role) for membership in user.memberships}
    networks = session.scalars(
        select(NetworkMembership.network_id).where(NetworkMembership.member_id.in_(list(roles)))
    )
    return Actor(
        user_id=user.id,
        username=user.username,
        is_sysadmin=user.is_sysadmin,
        roles=roles,
        reader_org_ids=frozenset(roles) | frozenset(networks),
    )


def actor_load(ctx: Context, user_id: str) -> Actor | None:
    """The actor for a user id (from a session cookie); None if the user is gone."""
    with ctx.db.session() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            return None
        return actor_for_user(session, user)


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(ctx: Context, name: str, username: str | None = None) -> str:
    """Create an API token for the actor (or, for a sysadmin, for ``username``).
    Returns the secret; only its digest is kept."""
    with ctx.db.session() as session:
        target_name = username or ctx.actor.username
        user = session.scalar(select(User).where(User.username == target_name))
        if user is None:
            raise NotFound("no user '{username}'", field="username", username=target_name)
        if user.id != ctx.actor.user_id and not ctx.actor.is_sysadmin:
            raise NotAuthorized("you may create tokens for yourself only")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        session.add(ApiToken(user_id=user.id, name=name, token_sha256=_token_digest(secret)))
    return secret


def actor_from_token(ctx: Context, secret: str) -> Actor:
    """The actor a token belongs to; NotAuthorized for an unknown or revoked token."""
    with ctx.db.session() as session:
        token = session.scalar(
            select(ApiToken).where(ApiToken.token_sha256 == _token_digest(secret.strip()))
        )
        if token is None:
            raise NotAuthorized("unknown API token")
        user = session.get(User, token.user_id)
        if user is None or not user.active:
            raise NotAuthorized("the token's user is disabled")
        now = utcnow()
        last_used = token.last_used
        if last_used is not None and last_used.tzinfo is None:
            last_used = last_used.replace(tzinfo=now.tzinfo)
        # One write an hour at most: token checks stay reads under load.
        if last_used is None or (now - last_used).total_seconds() > 3600:
            token.last_used = now
        return actor_for_user(session, user)


def token_list(ctx: Context) -> list[ApiToken]:
    """The actor's own API tokens (never their secrets), newest first."""
    if ctx.actor.user_id is None:
        raise NotAuthorized("log in to see your tokens")
    with ctx.db.session() as session:
        return list(session.scalars(
            select(ApiToken).where(ApiToken.user_id == ctx.actor.user_id)
            .order_by(ApiToken.created.desc())))


def token_revoke(ctx: Context, token_id: str) -> None:
    with ctx.db.session() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound("no token '{token}'", token=token_id)
        if token.user_id != ctx.actor.user_id and not ctx.actor.is_sysadmin:
            raise NotAuthorized("you may revoke your own tokens only")
        session.delete(token)
