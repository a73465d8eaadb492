"""The access rule, in one place: which collections a principal may read, and who may write.

A collection is public unless it is restricted to named groups; a restricted collection is
readable by principals in at least one of its groups, and by admins. Every token also belongs
to its personal group ``user:<name>``, which is how job results stay private to their owner.
Every read path asks :func:`hidden_collections` and passes the answer into the store query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from terrapole.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Principal:
    """Who is asking: a token's name, its groups, and whether it may administer."""

    name: str
    groups: frozenset[str] = frozenset()
    admin: bool = False

    @property
    def memberships(self) -> frozenset[str]:
        """Its groups plus its personal group ``user:<name>`` (private results collections)."""
        return self.groups if self.anonymous else self.groups | {f"user:{self.name}"}

    @property
    def anonymous(self) -> bool:
        """True for requests that carry no token."""
        return self.name == ""


ANONYMOUS = Principal(name="")

Restrictions = Mapping[str, frozenset[str]]


def can_read(principal: Principal, collection_id: str, restrictions: Restrictions) -> bool:
    """May ``principal`` read items of ``collection_id``?"""
    groups = restrictions.get(collection_id)
    return groups is None or principal.admin or bool(groups & principal.memberships)


def hidden_collections(principal: Principal, restrictions: Restrictions) -> frozenset[str]:
    """The collections whose items ``principal`` must not see (filtered inside store queries)."""
    return frozenset(c for c in restrictions if not can_read(principal, c, restrictions))


def require_admin(principal: Principal) -> None:
    """Raise unless ``principal`` may write to the catalogue."""
    if principal.anonymous:
        raise Unauthorized("this operation needs an admin API token (Authorization: Bearer ...)")
    if not principal.admin:
        raise Forbidden(f"token {principal.name!r} is not an admin token")
