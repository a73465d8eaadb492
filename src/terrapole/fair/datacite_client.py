"""DataCite DOIs through the DataCite REST API (JSON:API): the identifier provider of a platform
with a DataCite repository account.

A record's DOI is ``<prefix>/<record id>``. Publishing a record registers it as a draft
(``POST /dois``), then makes it findable (``PUT /dois/{doi}`` with ``event: publish``) with the
landing page ``<landing base><record id>`` as its URL; a record that is a new version of a DOI
also adds ``IsPreviousVersionOf`` to the older DOI at DataCite, so the link is registered both
ways. Every payload passes the DataCite 4.5 JSON schema (and the record its XML schema) before
anything is sent: an invalid record never reaches DataCite.

Failures raise :class:`~terrapole.fair.identifiers.IdentifierFailed` subclasses saying why:
:class:`DataCiteRefused` (credentials, DataCite's ``errors[]`` with their sources) or
:class:`DataCiteUnavailable` (no answer, a 5xx). Every step can be repeated, so publishing
again after a failure finishes the work: a draft already registered for the same landing page
is taken over, and a link already present is not added twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import quote

import httpx

from terrapole.config import Settings
from terrapole.errors import NotFound
from terrapole.fair import _codec
from terrapole.fair.datacite import (
    InvalidDataCite,
    checked_json,
    from_datacite_json,
    problems,
    to_xml,
)
from terrapole.fair.identifiers import IdentifierFailed, IdentifierProvider, LocalIdentifiers
from terrapole.fair.model import Record, RelatedIdentifier
from terrapole.fair.validation import validate_datacite_xml

log = logging.getLogger(__name__)

SERVICE = "DataCite"
JSON_API = "application/vnd.api+json"
# the kernel properties a record holds, as the REST API names them (the rest of a DOI's
# attributes are the registration envelope, counters and DataCite's own renderings)
_KERNEL = frozenset(_codec.camel(spec.name) for spec in fields(Record)) - {"extras"}


class DataCiteRefused(IdentifierFailed):
    """DataCite answered with an error: ``status`` is the HTTP status, ``errors`` DataCite's
    ``errors[]`` as ``source: title`` (a 422 lists the fields it refused)."""

    def __init__(self, reason: str, *, status: int, errors: tuple[str, ...] = ()) -> None:
        super().__init__(SERVICE, reason)
        self.status = status
        self.errors = errors


class DataCiteUnavailable(IdentifierFailed):
    """DataCite did not answer in time, could not be reached or failed itself (5xx): the
    request may be repeated later."""

    def __init__(self, reason: str) -> None:
        super().__init__(SERVICE, reason)


@dataclass(frozen=True)
class RegisteredDoi:
    """A DOI as DataCite holds it: its state (``draft``, ``registered``, ``findable``), the
    URL it resolves to, and its metadata as the REST API returned it."""

    doi: str
    state: str
    url: str | None
    attributes: Mapping[str, Any]

    def record(self) -> Record:
        """The DOI's metadata as a record (raises InvalidInput if it is not a DataCite kernel
        the model can hold)."""
        return from_datacite_json(kernel(self.attributes))


def kernel(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The DataCite kernel in a REST API DOI's ``attributes``: its metadata properties with
    the empties left out, ``types`` without DataCite's renderings (ris, bibtex, …) and the
    publication year as the schema's string."""
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if key not in _KERNEL or value in (None, "", [], {}):
            continue
        if key == "types" and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if k in ("resourceTypeGeneral", "resourceType")}
        elif key == "publicationYear":
            value = str(value)
        out[key] = _without_nulls(value)
    return out


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _link_json(link: RelatedIdentifier) -> dict[str, Any]:
    data: dict[str, Any] = _codec.dump(link)
    return data


class DataCiteProvider:
    """DOIs registered with DataCite for one repository (prefix, repository id, password).

    Example:
        >>> provider = DataCiteProvider(
        ...     api_url="https://api.test.datacite.org", prefix="10.5072",
        ...     repository_id="THEIA.TEST", password="…",
        ...     landing_base="https://data.theia.example/records/")  # doctest: +SKIP
        >>> doi = provider.register(record_id, record)  # doctest: +SKIP
        >>> provider.publish(record_id, doi, replace(record, doi=doi))  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        api_url: str,
        prefix: str,
        repository_id: str,
        password: str,
        landing_base: str,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.prefix = prefix
        self.repository_id = repository_id
        self.landing_base = landing_base if landing_base.endswith("/") else landing_base + "/"
        self.timeout_s = timeout_s
        self._client = httpx.Client(
            base_url=self.api_url,
            auth=(repository_id, password),
            timeout=timeout_s,
            headers={"Accept": JSON_API, "User-Agent": "terrapole"},
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> DataCiteProvider:
        """The provider the ``datacite_*`` settings describe (``datacite_url`` must be set)."""
        if not settings.datacite_url or settings.datacite_password is None:
            raise ValueError("datacite_url and datacite_password are not set")
        base = settings.public_url or f"http://{settings.host}:{settings.port}"
        return cls(
            api_url=settings.datacite_url,
            prefix=settings.datacite_prefix,
            repository_id=settings.datacite_repository_id,
            password=settings.datacite_password.get_secret_value(),
            landing_base=settings.doi_landing_base or f"{base}/records/",
            timeout_s=settings.datacite_timeout_s,
        )

    @property
    def mints_dois(self) -> bool:
        """DataCite identifiers are DOIs."""
        return True

    def doi_for(self, record_id: str) -> str:
        """The DOI a record gets: ``<prefix>/<record id>``."""
        return f"{self.prefix}/{record_id}".lower()

    def landing_url(self, record_id: str) -> str:
        """Where the record's DOI resolves: its landing page."""
        return f"{self.landing_base}{record_id}"

    # -- the provider protocol --------------------------------------------------------------

    def register(self, record_id: str, record: Record) -> str:
        """Register the record's DOI as a draft with its metadata and landing page; return it.

        A draft DataCite already holds for the same landing page (an earlier attempt that
        failed later) is taken over; one pointing elsewhere is refused.
        """
        doi = self.doi_for(record_id)
        url = self.landing_url(record_id)
        attributes = self._checked(record, doi, url=url)
        response = self._request("POST", "/dois", attributes=attributes)
        if response.status_code == 422:
            existing = self._find(doi)
            if existing is not None and existing.url == url:
                log.info("DataCite already holds %s for %s: taken over", doi, url)
                return doi
        self._raise_for(response)
        return doi

    def publish(self, record_id: str, identifier: str, record: Record) -> None:
        """Make ``identifier`` findable with ``record``'s metadata and landing page, then add
        ``IsPreviousVersionOf`` it to each DOI the record ``IsNewVersionOf``.

        The DOI's state is read first: one already findable (a repeated publication) only has
        its metadata replaced.
        """
        attributes = self._checked(record, identifier, url=self.landing_url(record_id))
        held = self._find(identifier)
        if held is None or held.state != "findable":  # a retry may find it findable already
            attributes["event"] = "publish"
        back_links = [  # read and checked before anything changes at DataCite
            (older, links) for older, links in self._back_links(identifier, record) if links
        ]
        self._put(identifier, attributes)
        for older, links in back_links:
            self._put(older, {"relatedIdentifiers": links})

    # -- more of the REST API ---------------------------------------------------------------

    def update(self, identifier: str, record: Record, *, url: str | None = None) -> None:
        """Replace the metadata of ``identifier`` (its state stays: a findable DOI stays
        findable), and its URL when ``url`` is given."""
        self._put(identifier, self._checked(record, identifier, url=url))

    def get(self, identifier: str) -> RegisteredDoi:
        """The DOI as DataCite holds it (drafts included: the request is authenticated)."""
        found = self._find(identifier)
        if found is None:
            raise NotFound("DOI", identifier)
        return found

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    # -- internals --------------------------------------------------------------------------

    def _checked(
        self, record: Record, doi: str, *, url: str | None = None, event: str | None = None
    ) -> dict[str, Any]:
        """The ``attributes`` of ``record`` registered as ``doi``, refused (InvalidDataCite)
        unless the DataCite 4.5 JSON schema accepts them and the XML schema the record."""
        record = replace(record, doi=doi)
        attributes = checked_json(record)
        if url is not None:
            attributes["url"] = url
        if event is not None:
            attributes["event"] = event
        found = problems(attributes) or validate_datacite_xml(to_xml(record))
        if found:
            raise InvalidDataCite(found)
        return attributes

    def _back_links(
        self, identifier: str, record: Record
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """For each DOI ``record`` is a new version of: its related identifiers with
        ``IsPreviousVersionOf identifier`` added (empty when it is there already), checked."""
        link = _link_json(RelatedIdentifier(identifier, "DOI", "IsPreviousVersionOf"))
        for older in record.related_identifiers:
            if older.relation_type != "IsNewVersionOf" or older.related_identifier_type != "DOI":
                continue
            held = self.get(older.related_identifier)
            links = [_without_nulls(x) for x in held.attributes.get("relatedIdentifiers") or ()]
            if any(_same_link(x, link) for x in links):
                yield older.related_identifier, []
                continue
            links.append(link)
            checked = problems({"relatedIdentifiers": links})  # the rest is DataCite's already
            found = [p for p in checked if p.startswith("relatedIdentifiers")]
            if found:
                raise InvalidDataCite(found)
            yield older.related_identifier, links

    def _find(self, identifier: str) -> RegisteredDoi | None:
        response = self._request(
            "GET", _path(identifier), params={"affiliation": "true", "publisher": "true"}
        )
        if response.status_code == 404:
            return None
        self._raise_for(response)
        data = _document(response).get("data") or {}
        attributes = data.get("attributes") or {}
        return RegisteredDoi(
            doi=str(attributes.get("doi") or data.get("id") or identifier).lower(),
            state=str(attributes.get("state") or ""),
            url=attributes.get("url"),
            attributes=attributes,
        )

    def _put(self, identifier: str, attributes: dict[str, Any]) -> None:
        response = self._request("PUT", _path(identifier), attributes=attributes, doi=identifier)
        self._raise_for(response)

    def _request(
        self,
        method: str,
        path: str,
        *,
        attributes: dict[str, Any] | None = None,
        doi: str | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        content = None
        if attributes is not None:
            data: dict[str, Any] = {"type": "dois", "attributes": attributes}
            if doi is not None:
                data["id"] = doi
            content = json.dumps({"data": data}).encode()
        headers = {"Content-Type": JSON_API} if content is not None else None
        try:
            return self._client.request(
                method, path, content=content, params=params, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise DataCiteUnavailable(
                f"no answer from {self.api_url} within {self.timeout_s:g} s"
            ) from exc
        except httpx.TransportError as exc:
            raise DataCiteUnavailable(f"{self.api_url} cannot be reached ({exc})") from exc

    def _raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status >= 500:
            raise DataCiteUnavailable(f"{status} {response.reason_phrase} from {self.api_url}")
        errors = _errors(response)
        if status in (401, 403):
            raise DataCiteRefused(
                f"DataCite refused the credentials of repository {self.repository_id!r} "
                f"({status}{': ' + '; '.join(errors) if errors else ''})",
                status=status,
                errors=errors,
            )
        said = "; ".join(errors) or response.reason_phrase
        what = "the metadata" if status == 422 else f"the request ({status})"
        raise DataCiteRefused(f"DataCite refused {what}: {said}", status=status, errors=errors)


def provider_for(settings: Settings) -> IdentifierProvider:
    """DataCite DOIs when ``datacite_url`` is set, local identifiers otherwise."""
    if not settings.datacite_url:
        return LocalIdentifiers()
    return DataCiteProvider.from_settings(settings)


def _same_link(held: Mapping[str, Any], link: Mapping[str, Any]) -> bool:
    held_id = str(held.get("relatedIdentifier", "")).lower()
    same_id = held_id == str(link["relatedIdentifier"]).lower()
    return same_id and held.get("relationType") == link["relationType"]


def _path(identifier: str) -> str:
    return f"/dois/{quote(identifier.strip().lower(), safe='/')}"


def _document(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise DataCiteUnavailable(f"DataCite answered {response.status_code} without JSON") from exc
    return body if isinstance(body, dict) else {}


def _errors(response: httpx.Response) -> tuple[str, ...]:
    """DataCite's ``errors[]`` as ``source: title`` (``title`` alone without a source)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:200],) if text else ()
    found = []
    for error in body.get("errors") or () if isinstance(body, dict) else ():
        if not isinstance(error, dict):
            continue
        title = str(error.get("title") or error.get("detail") or "error")
        source = error.get("source")
        if isinstance(source, dict):  # JSON:API's {"pointer": ...}
            source = source.get("pointer") or source.get("parameter")
        found.append(f"{source}: {title}" if source else title)
    return tuple(found)


__all__ = [
    "DataCiteProvider",
    "DataCiteRefused",
    "DataCiteUnavailable",
    "RegisteredDoi",
    "kernel",
    "provider_for",
]
