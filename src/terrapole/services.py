"""The service container: what ``create_app`` builds once and every adapter receives.

It is the composition root: it holds pillar objects (the catalogue store, the access service,
the storage) next to the settings, so it sits between the adapters and the pillars: adapters
import it, no pillar does (import-linter's layers contract in ``pyproject.toml``). It knows no
HTTP; who is asking is the adapters' question (``terrapole.web.services``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from terrapole.access import AccessService
from terrapole.catalog.documents import PreparedItem, prepare_item
from terrapole.catalog.store import Store
from terrapole.config import Settings
from terrapole.storage import Storage


@dataclass
class Services:
    """What the adapters share: the store, the access service, the settings and the storage."""

    store: Store
    access: AccessService
    settings: Settings
    storage: Storage
    after_ingest: Callable[[], None] = lambda: None  # wakes the production scheduler

    def prepare(self, doc: object, collection_id: str) -> PreparedItem:
        """An item sent to ``collection_id`` checked (at most ``max_item_bytes`` of JSON)."""
        return prepare_item(doc, collection=collection_id, max_bytes=self.settings.max_item_bytes)
