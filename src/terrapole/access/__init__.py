"""Who may see and change what: principals, API tokens and the access policy."""

from terrapole.access.policy import (
    ANONYMOUS,
    Principal,
    can_read,
    hidden_collections,
    require_admin,
)
from terrapole.access.service import AccessService

__all__ = [
    "ANONYMOUS",
    "AccessService",
    "Principal",
    "can_read",
    "hidden_collections",
    "require_admin",
]
