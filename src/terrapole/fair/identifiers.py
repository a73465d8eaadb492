"""Who gives a published record its identifier: the provider protocol, and local identifiers
for a platform without DataCite (the DataCite provider lives in ``fair.datacite_client``).

The record book calls :meth:`IdentifierProvider.register` then
:meth:`IdentifierProvider.publish` *before* it commits the publication: a provider that fails
raises, and the record stays as it was. Once a new version is committed, it calls
:meth:`IdentifierProvider.update` with the previous version's metadata (its new link).
"""

from __future__ import annotations

from typing import Protocol

from terrapole.errors import TerrapoleError
from terrapole.fair.model import Record

LOCAL_SCHEME = "terrapole"


class IdentifierProvider(Protocol):
    """Registers and publishes identifiers for records (DataCite DOIs, local ids)."""

    @property
    def mints_dois(self) -> bool:
        """Whether the identifiers are DOIs (then they go into the record's ``doi``)."""
        ...

    def register(self, record_id: str, record: Record) -> str:
        """Reserve the identifier of ``record`` (a draft DOI); return it."""
        ...

    def publish(self, record_id: str, identifier: str, record: Record) -> None:
        """Make ``identifier`` resolve to the record's landing page with ``record``'s metadata
        (``record.doi`` is already ``identifier`` when :attr:`mints_dois`)."""
        ...

    def update(self, identifier: str, record: Record) -> None:
        """Send the new metadata of the published ``identifier`` (a previous version that
        gained its IsPreviousVersionOf link)."""
        ...


class LocalIdentifiers:
    """Identifiers of this platform only (``terrapole:<prefix>/<record id>``), when DataCite is
    not configured: registering and publishing them calls nothing."""

    def __init__(self, prefix: str = "local") -> None:
        self.prefix = prefix

    @property
    def mints_dois(self) -> bool:
        """Local identifiers are not DOIs."""
        return False

    def register(self, record_id: str, record: Record) -> str:
        """``terrapole:<prefix>/<record_id>``."""
        return f"{LOCAL_SCHEME}:{self.prefix}/{record_id}"

    def publish(self, record_id: str, identifier: str, record: Record) -> None:
        """Nothing to tell anyone: the landing page serves the record."""

    def update(self, identifier: str, record: Record) -> None:
        """Nothing to tell anyone either: the landing page and OAI-PMH serve the change."""


class IdentifierFailed(TerrapoleError):
    """The identifier service refused or could not be reached: nothing was published (502).

    ``reason`` is the service's answer (or the connection error), for the user to read.
    """

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} did not publish the identifier: {reason}")
        self.service = service
        self.reason = reason
