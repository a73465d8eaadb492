"""The catalogue as one principal sees it: what every processing entry point reads through.

Jobs, their estimates, openEO graphs and services name their inputs (collections, items, assets,
DEMs, earlier results) by id, so every such read is an access path. They never receive the
catalogue itself but a :class:`VisibleCatalogue`: a read-only view that adds the principal's
hidden collections to every query, inside the store's own query. A restricted input is then
answered exactly as an unknown one (NotFound, or no item), at submission and again in the
worker, where the view is rebuilt from the access rules in force when the job runs.
"""

from __future__ import annotations

from dataclasses import replace

from terrapole.catalog.model import Aggregation, CollectionQuery, Page, SearchQuery
from terrapole.catalog.store import ReadStore
from terrapole.jsontypes import Json


class VisibleCatalogue:
    """A :class:`~terrapole.catalog.store.ReadStore` that never shows ``hidden`` collections."""

    def __init__(self, store: ReadStore, hidden: frozenset[str]) -> None:
        self._store = store
        self.hidden = hidden

    def get_collection(self, collection_id: str, *, hidden: frozenset[str] = frozenset()) -> Json:
        """A visible collection, or NotFound (hidden and unknown alike)."""
        return self._store.get_collection(collection_id, hidden=self.hidden | hidden)

    def list_collections(self, query: CollectionQuery) -> tuple[list[Json], int]:
        """The visible collections matching ``query``."""
        scoped = replace(query, hidden_collections=query.hidden_collections | self.hidden)
        return self._store.list_collections(scoped)

    def get_item(
        self, collection_id: str, item_id: str, *, hidden: frozenset[str] = frozenset()
    ) -> Json:
        """A visible item, or NotFound (hidden and unknown alike)."""
        return self._store.get_item(collection_id, item_id, hidden=self.hidden | hidden)

    def search(self, query: SearchQuery) -> Page:
        """The visible items matching ``query``."""
        return self._store.search(self._scoped(query))

    def aggregate(
        self, query: SearchQuery, names: list[str], *, interval: str = "month"
    ) -> list[Aggregation]:
        """Aggregations over the visible items matching ``query``."""
        return self._store.aggregate(self._scoped(query), names, interval=interval)

    def _scoped(self, query: SearchQuery) -> SearchQuery:
        return replace(query, hidden_collections=query.hidden_collections | self.hidden)
