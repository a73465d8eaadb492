"""The service container: what ``create_app`` builds once and every adapter receives.

It is the composition root: it holds pillar objects (the catalogue store, the access service,
the accounts, entities, licences, orders and quotas ledger, the storage, the FAIR record book)
next to the settings, so it sits between the adapters and the pillars: adapters import it, no
pillar does (import-linter's layers contract in ``pyproject.toml``). It knows no HTTP; who is
asking is the adapters' question (``terrapole.web.services``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from terrapole.access import AccessService
from terrapole.access.accounts import Accounts
from terrapole.access.entities import Entities
from terrapole.access.licences import Licences
from terrapole.access.mail import mailer_for
from terrapole.access.orders import OrderBook
from terrapole.access.quotas import Ledger
from terrapole.catalog.documents import PreparedItem, prepare_item
from terrapole.catalog.store import Store
from terrapole.config import Settings
from terrapole.fair.datacite_client import provider_for
from terrapole.fair.identifiers import IdentifierProvider
from terrapole.fair.records import RecordBook
from terrapole.storage import Storage


def identifier_provider(settings: Settings) -> IdentifierProvider:
    """Who gives published records their identifiers: DataCite when it is configured, else
    local identifiers (``fair.datacite_client.provider_for``)."""
    return provider_for(settings)


@dataclass
class Services:
    """What the adapters share: the store, the access service, the settings and the storage,
    and the objects built on the access service's database (accounts, entities, licences,
    orders and the quotas ledger they debit; the FAIR metadata records).

    A change made through ``accounts``, ``entities`` or ``licences`` that alters what someone
    may see (roles, memberships, acceptances, terms) should be followed by ``access.forget()``
    so it applies at once in this process (other processes see it within the cache's TTL).
    """

    store: Store
    access: AccessService
    settings: Settings
    storage: Storage
    after_ingest: Callable[[], None] = lambda: None  # wakes the production scheduler
    accounts: Accounts = field(init=False)
    entities: Entities = field(init=False)
    licences: Licences = field(init=False)
    orders: OrderBook = field(init=False)
    ledger: Ledger = field(init=False)
    records: RecordBook = field(init=False)

    def __post_init__(self) -> None:
        engine = self.access.engine
        base = self.settings.public_url or f"http://{self.settings.host}:{self.settings.port}"
        self.accounts = Accounts(
            engine, mailer=mailer_for(self.settings), link_base=f"{base}/account"
        )
        self.entities = Entities(engine, clock=self.accounts.clock)
        self.licences = Licences(engine, clock=self.accounts.clock)
        self.orders = OrderBook(engine)
        self.ledger = self.orders.ledger
        self.records = RecordBook(
            engine,
            identifiers=identifier_provider(self.settings),
            base_url=base,
            hidden=self.access.hidden_for,
        )

    def prepare(self, doc: object, collection_id: str) -> PreparedItem:
        """An item sent to ``collection_id`` checked (at most ``max_item_bytes`` of JSON)."""
        return prepare_item(doc, collection=collection_id, max_bytes=self.settings.max_item_bytes)
