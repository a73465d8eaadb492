"""The access rule, in one place: which collections a principal may read, download and order,
and who may write.

Two kinds of rule hide a collection, and both apply:

- a **restriction** to named groups (deployment tokens): readable by principals in at least one
  of its groups, and by admins. Every token also belongs to its personal group ``user:<name>``,
  which is how job results stay private to their owner;
- declared **terms** (``collection_terms``): readable only by an account with an eligible
  profile that accepted the current version of every licence the collection requires (itself,
  or through one of its entities), and by admins; terms that name entities (the collections
  orders are delivered into) also ask membership of one of them.

Every read path asks :func:`hidden_collections` and passes the answer into the store query, so
a hidden collection is answered exactly as an unknown one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from terrapole.access.eligibility import Terms, meets_terms
from terrapole.access.profiles import Profile
from terrapole.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Principal:
    """Who is asking: a token's name, its groups and role; for a token an account owns, the
    account (``user_id``), its roles, entities, profiles and accepted licences."""

    name: str
    groups: frozenset[str] = frozenset()
    admin: bool = False
    user_id: str | None = None
    roles: frozenset[str] = frozenset()
    entities: frozenset[str] = frozenset()
    profiles: frozenset[Profile] = frozenset()
    licences: frozenset[str] = frozenset()

    @property
    def memberships(self) -> frozenset[str]:
        """Its groups plus its personal group ``user:<name>`` (private results collections)."""
        return self.groups if self.anonymous else self.groups | {f"user:{self.name}"}

    @property
    def anonymous(self) -> bool:
        """True for requests that carry no token."""
        return self.name == ""

    @property
    def curator(self) -> bool:
        """Whether the account may declare collections' terms (admins may too)."""
        return self.admin or "curator" in self.roles


ANONYMOUS = Principal(name="")

Restrictions = Mapping[str, frozenset[str]]
TermsByCollection = Mapping[str, Terms]
_NO_TERMS: TermsByCollection = {}


def can_read(
    principal: Principal,
    collection_id: str,
    restrictions: Restrictions,
    terms: TermsByCollection = _NO_TERMS,
) -> bool:
    """May ``principal`` read items of ``collection_id``?"""
    if principal.admin:
        return True
    groups = restrictions.get(collection_id)
    if groups is not None and not groups & principal.memberships:
        return False
    declared = terms.get(collection_id)
    return declared is None or meets_terms(
        declared,
        profiles=principal.profiles,
        licences=principal.licences,
        entities=principal.entities,
    )


def can_download(
    principal: Principal,
    collection_id: str,
    restrictions: Restrictions,
    terms: TermsByCollection = _NO_TERMS,
) -> bool:
    """May ``principal`` download the assets of ``collection_id`` (whoever reads, downloads)?"""
    return can_read(principal, collection_id, restrictions, terms)


def can_order(
    principal: Principal,
    collection_id: str,
    restrictions: Restrictions,
    terms: TermsByCollection = _NO_TERMS,
) -> bool:
    """May ``principal`` order products of ``collection_id``: an account that is a member of
    an entity, with an eligible profile and the required licences accepted (admins too need
    an entity, which the order is debited to)."""
    if principal.user_id is None or not principal.entities:
        return False
    return can_read(principal, collection_id, restrictions, terms)


def hidden_collections(
    principal: Principal, restrictions: Restrictions, terms: TermsByCollection = _NO_TERMS
) -> frozenset[str]:
    """The collections whose items ``principal`` must not see (filtered inside store queries)."""
    if principal.admin:
        return frozenset()
    ruled = restrictions.keys() | terms.keys()
    return frozenset(c for c in ruled if not can_read(principal, c, restrictions, terms))


def require_admin(principal: Principal) -> None:
    """Raise unless ``principal`` may write to the catalogue."""
    if principal.anonymous:
        raise Unauthorized("this operation needs an admin API token (Authorization: Bearer ...)")
    if not principal.admin:
        raise Forbidden(f"token {principal.name!r} is not an admin token")
