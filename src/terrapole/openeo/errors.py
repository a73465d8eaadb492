"""openEO errors a process graph meets when it runs, named by their openEO error code.

A job's failure reason is text (its log line and status); the reason starts with the openEO
code (``CollectionNotFound: ...``) so that the API can give the code back (:func:`code_of`).
"""

from __future__ import annotations

import re
from typing import ClassVar

from terrapole.errors import InvalidInput, NotFound, TerrapoleError

_CODE = re.compile(r"(?:^|: )([A-Z][A-Za-z]+): ")


class CollectionNotFound(NotFound):
    """A load_collection names a collection that does not exist (or is hidden from the owner)."""

    code: ClassVar[str] = "CollectionNotFound"

    def __init__(self, collection: str) -> None:
        TerrapoleError.__init__(
            self, f"{self.code}: collection {collection!r} does not exist or is not visible to you"
        )
        self.kind = "collection"
        self.ident = collection


CODES = frozenset({CollectionNotFound.code})


def code_of(message: str) -> str | None:
    """The openEO error code a failure reason starts with (after a ``FAILED: `` prefix), if any."""
    found = _CODE.search(message)
    return found.group(1) if found and found.group(1) in CODES else None


class ProcessGraphNotFound(NotFound):
    """No user-defined process of this id is stored for this user."""

    def __init__(self, ident: str) -> None:
        super().__init__("user-defined process", ident)


class ProcessGraphIdInvalid(InvalidInput):
    """A user-defined process id that is not openEO's ``^\\w+$`` (letters, digits, _)."""

    def __init__(self, ident: str, reason: str = "must be letters, digits and _ only") -> None:
        super().__init__("process_graph_id", f"{ident!r} {reason}")
        self.ident = ident
