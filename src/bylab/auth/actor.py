"""Who is asking: the user, their roles per organisation, and which organisations' shared
data they may read (their own and every network those belong to)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bylab.auth.models import Role

_ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Actor:
    user_id: str | None = None
    username: str | None = None
    is_sysadmin: bool = False
    roles: dict[str, Role] = field(default_factory=dict)  # organisation id -> role
    reader_org_ids: frozenset[str] = frozenset()  # own organisations + their networks

    @classmethod
    def anonymous(cls) -> Actor:
        return cls()

    @classmethod
    def system(cls) -> Actor:
        return cls(username="system", is_sysadmin=True)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None and not self.is_sysadmin

    @property
    def member_org_ids(self) -> frozenset[str]:
        return frozenset(self.roles)

    def has_role(self, organisation_id: str, at_least: Role) -> bool:
        if self.is_sysadmin:
            return True
        role = self.roles.get(organisation_id)
        return role is not None and _ROLE_RANK[role] >= _ROLE_RANK[at_least]

    def can_edit(self, organisation_id: str) -> bool:
        return self.has_role(organisation_id, Role.EDITOR)

    def can_admin(self, organisation_id: str) -> bool:
        return self.has_role(organisation_id, Role.ADMIN)
