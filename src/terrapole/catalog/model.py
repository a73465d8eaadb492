"""Records that cross the Store boundary: search queries, pages, load reports, aggregations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from terrapole.jsontypes import Json

Direction = Literal["asc", "desc"]


@dataclass(frozen=True)
class SortKey:
    """One ``sortby`` term: a queryable name and a direction."""

    field: str
    direction: Direction = "asc"


@dataclass(frozen=True)
class TimeRange:
    """A closed datetime interval in normalised UTC text; ``None`` is an open end."""

    start: str | None
    end: str | None


@dataclass(frozen=True)
class Fields:
    """The fields extension's include/exclude paths (dotted).

    ``from_defaults``: the client sent ``include`` as null or ``[]`` next to ``exclude``, so
    the excludes apply to the extension's default field set rather than to the whole item.
    """

    include: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    from_defaults: bool = False

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)


@dataclass(frozen=True)
class SearchQuery:
    """An item search, already validated and normalised at the edge.

    ``hidden_collections`` comes from the access policy: items of those collections are
    excluded inside the store query, never after it. ``count_limit``: count the matches
    exactly up to this many, estimate beyond (None: do not count, as internal readers need not).
    """

    collections: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    bbox: tuple[float, float, float, float] | None = None
    intersects: Json | None = None
    datetime: TimeRange | None = None
    filter: Json | None = None
    q: tuple[str, ...] | None = None
    sortby: tuple[SortKey, ...] = ()
    fields: Fields = field(default_factory=Fields)
    limit: int = 10
    token: str | None = None
    hidden_collections: frozenset[str] = frozenset()
    count_limit: int | None = None


@dataclass(frozen=True)
class CollectionQuery:
    """A collection search (collection-search extension), scoped by the access policy."""

    bbox: tuple[float, float, float, float] | None = None
    datetime: TimeRange | None = None
    q: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    limit: int = 100
    offset: int = 0
    hidden_collections: frozenset[str] = frozenset()


@dataclass
class Page:
    """One page of search results and the opaque tokens to move from it.

    ``matched`` counts every match of the query (all pages), when it was asked for;
    ``matched_exact`` is False when that number is an estimate (beyond the count limit).
    """

    items: list[Json]
    next_token: str | None = None
    prev_token: str | None = None
    matched: int | None = None
    matched_exact: bool = True


@dataclass
class Rejection:
    """Why one document of a bulk load was refused; ``where`` is a line number or an id."""

    where: str
    reason: str


@dataclass
class LoadReport:
    """What a bulk load did: counts and reasons, printed by the CLI and returned by the API."""

    loaded: int = 0
    skipped: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def merge(self, other: LoadReport) -> None:
        """Add another report's counts to this one."""
        self.loaded += other.loaded
        self.skipped += other.skipped
        self.rejected.extend(other.rejected)


@dataclass(frozen=True)
class Bucket:
    """One bucket of a frequency/histogram aggregation."""

    key: str
    frequency: int
    data_type: str = "frequency_distribution"
    to: str | None = None


@dataclass(frozen=True)
class Aggregation:
    """One named aggregation result: either buckets or a single value."""

    name: str
    data_type: str
    buckets: tuple[Bucket, ...] | None = None
    value: Any = None
