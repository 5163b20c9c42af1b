"""Who is calling: a user with role grants over areas, or an anonymous member of the public."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("admin", "dispatcher", "grid_manager", "grid_worker", "officer", "analyst")
STAFF = ROLES
PUBLIC = "public"

# who may see a reporter's contact details (in scope, because they act on the report)
CONTACT_ROLES = frozenset({"admin", "dispatcher", "grid_worker"})


@dataclass(frozen=True)
class Grant:
    role: str
    area_code: str


@dataclass(frozen=True)
class Principal:
    username: str
    user_id: int | None = None
    session_id: str | None = None
    unit_code: str | None = None
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    client: str = ""

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has_any(self, roles) -> bool:
        return bool(self.roles & set(roles))

    def scope(self, roles) -> list[str] | None:
        """Area codes this caller may act on through ``roles``; ``None`` means everywhere (admin)."""
        if self.is_admin:
            return None
        return sorted({g.area_code for g in self.grants if g.role in roles})

    @property
    def actor(self) -> str:
        return self.username if self.is_authenticated else f"public@{self.client}"


def anonymous(client: str) -> Principal:
    return Principal(username=PUBLIC, client=client)
