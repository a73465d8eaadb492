"""The Store protocol every catalogue backend implements, and the factory that opens one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, Protocol

from terrapole.catalog.documents import PreparedItem
from terrapole.catalog.model import (
    Aggregation,
    CollectionQuery,
    LoadReport,
    Page,
    SearchQuery,
)
from terrapole.jsontypes import Json

if TYPE_CHECKING:
    from terrapole.config import Settings

OnConflict = Literal["error", "skip", "upsert"]

AGGREGATIONS: dict[str, str] = {
    "total_count": "integer",
    "datetime_min": "datetime",
    "datetime_max": "datetime",
    "collection_frequency": "frequency_distribution",
    "platform_frequency": "frequency_distribution",
    "constellation_frequency": "frequency_distribution",
    "instruments_frequency": "frequency_distribution",
    "datetime_frequency": "frequency_distribution",
    "cloud_cover_frequency": "frequency_distribution",
}
DATETIME_INTERVALS = {"year": 4, "month": 7, "day": 10}


class ReadStore(Protocol):
    """The reading half of a catalogue: what processing, estimates and openEO may use.

    Read methods take ``hidden`` collection ids from the access policy and never return
    anything in them. Code that reads on behalf of a user (jobs, openEO) receives a
    :class:`~terrapole.access.view.VisibleCatalogue`, which adds that user's hidden collections
    to every call, so no read can reach a collection the user may not see.
    """

    def get_collection(self, collection_id: str, *, hidden: frozenset[str] = frozenset()) -> Json:
        """Return a collection document or raise NotFound."""

    def list_collections(self, query: CollectionQuery) -> tuple[list[Json], int]:
        """Return one page of matching collections and the number matched."""

    def get_item(
        self, collection_id: str, item_id: str, *, hidden: frozenset[str] = frozenset()
    ) -> Json:
        """Return an item document or raise NotFound."""

    def search(self, query: SearchQuery) -> Page:
        """Return one page of items matching ``query``, in its sort order."""

    def aggregate(
        self, query: SearchQuery, names: list[str], *, interval: str = "month"
    ) -> list[Aggregation]:
        """Compute the named aggregations over the items matching ``query``."""


class Store(ReadStore, Protocol):
    """A STAC catalogue: collections and items, written in transactions, searched in queries.

    Write methods raise :class:`~terrapole.errors.NotFound` or
    :class:`~terrapole.errors.AlreadyExists` and leave the store unchanged on error.
    """

    def create_collection(self, doc: Json) -> None:
        """Insert a new collection; raise AlreadyExists if the id is taken."""

    def upsert_collection(self, doc: Json) -> None:
        """Insert or replace a collection document (its items are kept)."""

    def update_collection(self, doc: Json) -> None:
        """Replace an existing collection; raise NotFound if absent."""

    def delete_collection(self, collection_id: str) -> None:
        """Delete a collection and all its items."""

    def create_item(self, item: PreparedItem) -> None:
        """Insert a new item; raise AlreadyExists or NotFound (collection)."""

    def update_item(self, item: PreparedItem) -> None:
        """Replace an existing item; raise NotFound if absent."""

    def delete_item(self, collection_id: str, item_id: str) -> None:
        """Delete one item or raise NotFound."""

    def load_items(
        self, items: Iterable[PreparedItem], *, on_conflict: OnConflict = "error"
    ) -> LoadReport:
        """Write many items in ONE transaction: all of them, or none if one conflicts."""

    def count_items(self, collection_id: str | None = None) -> int:
        """Number of items in one collection or in the whole store."""

    def close(self) -> None:
        """Release connections."""


def open_store(settings: Settings) -> Store:
    """Open the store the database URL names (sqlite:/// or postgresql://)."""
    if settings.backend == "sqlite":
        from terrapole.catalog.sqlite import SqliteStore

        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStore(settings.sqlite_path)
    from terrapole.catalog.pgstac import PgstacStore

    return PgstacStore(settings.database_url, statement_timeout_s=settings.statement_timeout_s)
