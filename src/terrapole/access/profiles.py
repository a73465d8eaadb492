"""The access profiles of the DINAMIS pages: what an entity (and each of its members) is.

What each profile may see, order and at what quota or price is the policy's business; this
module only names them.
"""

from __future__ import annotations

from enum import StrEnum

from terrapole.errors import InvalidInput


class Profile(StrEnum):
    """Who the hub serves, as the DINAMIS eligibility pages list them."""

    FRENCH_SCIENTIST = "french-scientist"
    """French research and higher-education bodies."""
    FOREIGN_SCIENTIST = "foreign-scientist"
    """Foreign scientists, under conditions (a French partner, a shared project)."""
    FRENCH_PUBLIC_ACTOR = "french-public-actor"
    """French public actors (State services, local authorities, public agencies)."""
    FRENCH_PRIVATE_RD = "french-private-rd"
    """French private actors working in R&D, under conditions."""
    TEACHING = "teaching"
    """Teaching (courses and training)."""


class EntityKind(StrEnum):
    """What an entity is."""

    LAB = "lab"
    PUBLIC_BODY = "public-body"
    COMPANY = "company"
    TEACHING = "teaching"


def profile(value: str) -> Profile:
    """The profile named ``value``, or :class:`InvalidInput` listing the known ones."""
    try:
        return Profile(value)
    except ValueError:
        known = ", ".join(p.value for p in Profile)
        raise InvalidInput("profile", f"{value!r} is none of {known}") from None


def entity_kind(value: str) -> EntityKind:
    """The entity kind named ``value``, or :class:`InvalidInput` listing the known ones."""
    try:
        return EntityKind(value)
    except ValueError:
        known = ", ".join(k.value for k in EntityKind)
        raise InvalidInput("entity type", f"{value!r} is none of {known}") from None
