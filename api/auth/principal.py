"""Who is calling: a user with role grants over areas, or an anonymous member of the public."""

from __future__ import annotations

from dataclasses import dataclass, field

PUBLIC = "public"


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
    device: str | None = None  # an anonymous caller's phone (keyed hash of X-Device-Secret)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def actor(self) -> str:
        """The name written into the audit log (the client address stays in its own column)."""
        return self.username if self.is_authenticated else PUBLIC


def anonymous(client: str, device: str | None = None) -> Principal:
    return Principal(username=PUBLIC, client=client, device=device)
