"""Search helpers for the code that reads the catalogue as a whole (chains, cubes, schedulers)."""

from __future__ import annotations

from dataclasses import replace

from terrapole.catalog.model import SearchQuery
from terrapole.catalog.store import ReadStore
from terrapole.jsontypes import Json

PAGE = 1000  # items per page while collecting every match


def search_all(store: ReadStore, query: SearchQuery) -> list[Json]:
    """Every item a query matches, page after page."""
    items: list[Json] = []
    token: str | None = None
    while True:
        page = store.search(replace(query, limit=PAGE, token=token))
        items.extend(page.items)
        token = page.next_token
        if not token:
            return items
