"""An OAI-PMH 2.0 repository over the published records: the six verbs, sets, selective
harvesting by datestamp, resumption tokens, persistent deleted records (withdrawn records
answer ``status="deleted"``), and the ``oai_dc`` and ``oai_datacite`` formats.

:meth:`OaiRepository.respond` takes the request's arguments (query string or form, each name
with the values it was given) and returns the response as chunks of bytes; the list verbs
stream one chunk per record. A request the protocol refuses gets the protocol's own error
codes (badVerb, badArgument, badResumptionToken, cannotDisseminateFormat, idDoesNotExist,
noRecordsMatch, noMetadataFormats), in a normal response: OAI-PMH errors are not HTTP errors.

Resumption tokens are stateless: the request's selection and the last (datestamp, id)
returned, encoded, so a harvest needs no server memory and each page is a keyset query.
Records are named ``oai:<host>:<record id>``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from terrapole.fair.harvest import SET_SPEC, Harvest, HarvestRow, Selection, UnknownSet
from terrapole.fair.harvest import set_specs_of as _set_specs_of
from terrapole.fair.oai_formats import FORMATS, attribute, payload, text
from terrapole.jsontypes import utc_iso

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_REPOSITORY_ID = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")
_TOKEN_VERSION = 1
CHUNK = 64 * 1024
"""About how many bytes a list response sends at a time."""

Clock = Callable[[], datetime]

# verb → (required arguments, optional arguments); the list verbs also take a resumption
# token alone (the "exclusive" argument)
_ARGUMENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset()),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
}
_EXCLUSIVE = frozenset({"ListSets", "ListIdentifiers", "ListRecords"})


class OaiError(Exception):
    """A request the protocol refuses: ``code`` is one of OAI-PMH's error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class Token:
    """Where a list harvest stands: its selection, the last record sent, how far it is."""

    prefix: str
    selection: Selection
    after: tuple[datetime, str]
    cursor: int
    total: int
    expires: datetime


def _stamp(value: datetime) -> str:
    """An OAI-PMH datestamp: UTC to the second, with a Z."""
    return utc_iso(value, timespec="seconds")


def _from_iso(value: object) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("naive datetime")
    return parsed.astimezone(UTC)  # OverflowError at year 1 or 9999 with an offset


def encode_token(token: Token) -> str:
    """The token as an opaque URL-safe string."""
    data = {
        "v": _TOKEN_VERSION,
        "p": token.prefix,
        "s": token.selection.set_spec,
        "f": utc_iso(token.selection.since),
        "b": utc_iso(token.selection.before),
        "d": utc_iso(token.after[0]),
        "i": token.after[1],
        "c": token.cursor,
        "n": token.total,
        "e": utc_iso(token.expires),
    }
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _count(value: object) -> int:
    """A token's cursor or list size: a whole number, not negative (the schema's
    ``nonNegativeInteger``); a forged ``Infinity`` or ``-5`` is not one."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a whole number")
    if value < 0:
        raise ValueError(f"{value!r} is negative")
    return value


def decode_token(value: str, *, now: datetime) -> Token:
    """A token back, or :class:`OaiError` badResumptionToken (unreadable, forged, expired)."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("v") != _TOKEN_VERSION:
            raise ValueError("not a token of this repository")
        after = _from_iso(data["d"])
        expires = _from_iso(data["e"])
        if after is None or expires is None or data["p"] not in FORMATS:
            raise ValueError("incomplete token")
        token = Token(
            str(data["p"]),
            Selection(_from_iso(data["f"]), _from_iso(data["b"]), data["s"] and str(data["s"])),
            (after, str(data["i"])),
            _count(data["c"]),
            _count(data["n"]),
            expires,
        )
    except (
        binascii.Error,
        UnicodeDecodeError,
        ValueError,
        KeyError,
        TypeError,
        OverflowError,
        RecursionError,
    ) as exc:
        raise OaiError("badResumptionToken", f"{value!r} is not a resumption token") from exc
    if token.expires < now:
        raise OaiError("badResumptionToken", f"the token expired at {_stamp(token.expires)}")
    return token


def parse_datestamp(value: str, name: str) -> tuple[datetime, timedelta]:
    """A ``from``/``until`` argument as a UTC instant and its granularity (a day or a second)."""
    if _DAY.match(value):
        fmt, step = "%Y-%m-%d", timedelta(days=1)
    elif _SECOND.match(value):
        fmt, step = "%Y-%m-%dT%H:%M:%SZ", timedelta(seconds=1)
    else:
        raise OaiError(
            "badArgument", f"{name}={value!r} is neither YYYY-MM-DD nor YYYY-MM-DDThh:mm:ssZ"
        )
    try:
        return datetime.strptime(value, fmt).replace(tzinfo=UTC), step
    except ValueError as exc:
        raise OaiError("badArgument", f"{name}={value!r} is not a date: {exc}") from exc


def selection_of(arguments: Mapping[str, str]) -> Selection:
    """The records ``from``, ``until`` and ``set`` select; ``until`` includes its whole day
    or second (datestamps are given to the second); an ``until`` on the last day a datetime
    holds (9999-12-31) sets no upper bound."""
    since = before = None
    steps = []
    if "from" in arguments:
        since, step = parse_datestamp(arguments["from"], "from")
        steps.append(step)
    if "until" in arguments:
        until, step = parse_datestamp(arguments["until"], "until")
        before = _after(until, step)
        steps.append(step)
    if len(set(steps)) > 1:
        raise OaiError("badArgument", "from and until must have the same granularity")
    if since is not None and before is not None and since >= before:
        raise OaiError("badArgument", "from is later than until")
    spec = arguments.get("set")
    if spec is not None and not SET_SPEC.match(spec):
        raise OaiError("badArgument", f"set={spec!r} is not a setSpec")
    return Selection(since, before, spec)


def _after(moment: datetime, step: timedelta) -> datetime | None:
    """The first instant past ``moment``'s day or second, or None past year 9999."""
    try:
        return moment + step
    except OverflowError:
        return None


def checked_arguments(arguments: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, each given once, as the verb allows them."""
    verbs = list(arguments.get("verb", ()))
    if len(verbs) != 1:
        raise OaiError("badVerb", "the verb argument is missing" if not verbs else "repeated verb")
    verb = verbs[0]
    if verb not in _ARGUMENTS:
        raise OaiError("badVerb", f"{verb!r} is not an OAI-PMH verb")
    given: dict[str, str] = {}
    for name, values in arguments.items():
        if name == "verb":
            continue
        if len(values) != 1:
            raise OaiError("badArgument", f"the argument {name!r} is repeated")
        given[name] = values[0]
    required, optional = _ARGUMENTS[verb]
    if verb in _EXCLUSIVE and "resumptionToken" in given:
        if len(given) > 1:
            others = ", ".join(sorted(set(given) - {"resumptionToken"}))
            raise OaiError("badArgument", f"resumptionToken is exclusive (also given: {others})")
        return verb, given
    unknown = set(given) - required - optional
    if unknown:
        raise OaiError("badArgument", f"{verb} takes no argument {', '.join(sorted(unknown))}")
    missing = required - set(given)
    if missing:
        raise OaiError("badArgument", f"{verb} needs {', '.join(sorted(missing))}")
    return verb, given


class OaiRepository:
    """The OAI-PMH repository at ``base_url`` (the endpoint's URL) over a :class:`Harvest`;
    ``records_url`` + a record id is the record's landing page."""

    def __init__(
        self,
        harvest: Harvest,
        *,
        base_url: str,
        records_url: str,
        name: str = "terrapole",
        admin_email: str = "admin@example.org",
        datacentre: str = "TERRAPOLE",
        page_size: int = 500,
        token_lifetime: timedelta = timedelta(days=1),
        clock: Clock | None = None,
    ) -> None:
        self.harvest = harvest
        self.base_url = base_url
        self.records_url = records_url
        self.host = urlsplit(base_url).hostname or "localhost"
        self.name, self.admin_email, self.datacentre = name, admin_email, datacentre
        self.page_size = max(1, page_size)
        self.token_lifetime = token_lifetime
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- naming -------------------------------------------------------------------------------

    def oai_identifier(self, record_id: str) -> str:
        """The OAI identifier of a record."""
        return f"oai:{self.host}:{record_id}"

    def record_id(self, identifier: str) -> str:
        """The record id an OAI identifier names, or idDoesNotExist."""
        prefix = f"oai:{self.host}:"
        if not identifier.startswith(prefix) or len(identifier) == len(prefix):
            raise OaiError("idDoesNotExist", f"{identifier!r} is not an identifier of this "
                           f"repository ({prefix}<record id>)")  # fmt: skip
        return identifier[len(prefix) :]

    # -- the response -------------------------------------------------------------------------

    def respond(self, arguments: Mapping[str, Sequence[str]]) -> Iterable[bytes]:
        """The response to one request, as chunks of UTF-8 XML (errors included)."""
        now = self.clock()
        try:
            verb, given = checked_arguments(arguments)
        except OaiError as error:
            return [self._envelope(now, None, {}, _error(error))]
        try:
            body = self._verb(verb, given, now)
        except OaiError as error:
            refused = error.code in ("badVerb", "badArgument")  # echoes no arguments
            return [self._envelope(now, None if refused else verb, given, _error(error))]
        return self._streamed(now, verb, given, body)

    def _streamed(
        self, now: datetime, verb: str, given: Mapping[str, str], body: Iterable[str]
    ) -> Iterator[bytes]:
        head, _, tail = self._envelope(now, verb, given, "\x00").partition(b"\x00")
        buffer = [head.decode(), f"<{verb}>"]
        size = 0
        for part in body:  # sent in pieces of about CHUNK bytes: one per record costs more
            buffer.append(part)
            size += len(part)
            if size >= CHUNK:
                yield "".join(buffer).encode()
                buffer, size = [], 0
        buffer.append(f"</{verb}>")
        yield "".join(buffer).encode() + tail

    def _envelope(
        self, now: datetime, verb: str | None, given: Mapping[str, str], content: str
    ) -> bytes:
        # a request refused as a whole (badVerb, badArgument) echoes no arguments
        attributes = "".join(
            f" {name}={attribute(value)}"
            for name, value in ([("verb", verb), *sorted(given.items())] if verb else [])
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<OAI-PMH xmlns="{OAI}" xmlns:xsi="{XSI}" '
            f'xsi:schemaLocation="{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
            f"<responseDate>{_stamp(now)}</responseDate>"
            f"<request{attributes}>{text(self.base_url)}</request>{content}</OAI-PMH>\n"
        ).encode()

    def _verb(self, verb: str, given: Mapping[str, str], now: datetime) -> Iterable[str]:
        if verb == "Identify":
            return [self._identify()]
        if verb == "ListMetadataFormats":
            return [self._metadata_formats(given.get("identifier"))]
        if verb == "ListSets":
            return self._sets(given)
        if verb == "GetRecord":
            return [self._get_record(given["identifier"], given["metadataPrefix"])]
        return self._list(verb, given, now)

    # -- verbs ----------------------------------------------------------------------------------

    def _identify(self) -> str:
        earliest = self.harvest.earliest() or datetime(1970, 1, 1, tzinfo=UTC)
        description = ""
        if _REPOSITORY_ID.match(self.host):
            description = (
                f'<description><oai-identifier xmlns="{OAI_IDENTIFIER}" '
                f'xsi:schemaLocation="{OAI_IDENTIFIER} '
                f'http://www.openarchives.org/OAI/2.0/oai-identifier.xsd">'
                f"<scheme>oai</scheme><repositoryIdentifier>{self.host}</repositoryIdentifier>"
                f"<delimiter>:</delimiter>"
                f"<sampleIdentifier>{self.oai_identifier('0123abcd')}</sampleIdentifier>"
                f"</oai-identifier></description>"
            )
        return (
            f"<repositoryName>{text(self.name)}</repositoryName>"
            f"<baseURL>{text(self.base_url)}</baseURL>"
            f"<protocolVersion>2.0</protocolVersion>"
            f"<adminEmail>{text(self.admin_email)}</adminEmail>"
            f"<earliestDatestamp>{_stamp(earliest)}</earliestDatestamp>"
            f"<deletedRecord>persistent</deletedRecord>"
            f"<granularity>{GRANULARITY}</granularity>{description}"
        )

    def _row(self, identifier: str) -> HarvestRow:
        row = self.harvest.one(self.record_id(identifier))
        if row is None:
            raise OaiError("idDoesNotExist", f"no record {identifier!r} here")
        return row

    def _metadata_formats(self, identifier: str | None) -> str:
        if identifier is not None and self._row(identifier).deleted:
            raise OaiError("noMetadataFormats", f"{identifier} was withdrawn: it has no metadata")
        return "".join(
            f"<metadataFormat><metadataPrefix>{f.prefix}</metadataPrefix>"
            f"<schema>{f.schema}</schema><metadataNamespace>{f.namespace}</metadataNamespace>"
            f"</metadataFormat>"
            for f in FORMATS.values()
        )

    def _sets(self, given: Mapping[str, str]) -> list[str]:
        if "resumptionToken" in given:  # the set list comes whole: this repository gave none
            raise OaiError("badResumptionToken", "ListSets gives no resumption tokens")
        return [
            f"<set><setSpec>{text(s.spec)}</setSpec><setName>{text(s.name)}</setName></set>"
            for s in self.harvest.sets()
        ]

    def _get_record(self, identifier: str, prefix: str) -> str:
        _check_format(prefix)
        return self._record(self._row(identifier), prefix, self.harvest.ces_of_collection())

    def _list(self, verb: str, given: Mapping[str, str], now: datetime) -> Iterator[str]:
        if "resumptionToken" in given:
            token: Token | None = decode_token(given["resumptionToken"], now=now)
            assert token is not None
            prefix, selection, after = token.prefix, token.selection, token.after
        else:
            token, prefix = None, given["metadataPrefix"]
            _check_format(prefix)
            selection, after = selection_of(given), None
        try:
            rows = self.harvest.page(selection, after=after, limit=self.page_size + 1)
            total = token.total if token else self.harvest.count(selection)
        except UnknownSet:
            rows, total = [], 0
        if not rows:
            if token is None:
                raise OaiError("noRecordsMatch", "no record matches the selection")
            raise OaiError("badResumptionToken", "the token points past the end of the list")
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        cursor = token.cursor if token else 0
        next_token = None
        if more:
            last = rows[-1]
            sent = cursor + len(rows)
            expires = now + self.token_lifetime
            next_token = Token(
                prefix, selection, (last.updated, last.id), sent, max(total, sent + 1), expires
            )
        return self._list_body(verb, prefix, rows, token, next_token, total, cursor)

    def _list_body(
        self,
        verb: str,
        prefix: str,
        rows: list[HarvestRow],
        token: Token | None,
        next_token: Token | None,
        total: int,
        cursor: int,
    ) -> Iterator[str]:
        ces = self.harvest.ces_of_collection()
        for row in rows:
            if verb == "ListIdentifiers":
                yield self._header(row, ces)
            else:
                yield self._record(row, prefix, ces)
        if next_token is not None:
            yield (
                f'<resumptionToken completeListSize="{next_token.total}" cursor="{cursor}" '
                f'expirationDate="{_stamp(next_token.expires)}">'
                f"{encode_token(next_token)}</resumptionToken>"
            )
        elif token is not None:  # the last page of a list given in several: an empty token
            yield f'<resumptionToken completeListSize="{total}" cursor="{cursor}"/>'

    # -- records --------------------------------------------------------------------------------

    def _header(self, row: HarvestRow, ces: Mapping[str, list[str]]) -> str:
        status = ' status="deleted"' if row.deleted else ""
        specs = "".join(f"<setSpec>{text(s)}</setSpec>" for s in _set_specs_of(row, ces))
        return (
            f"<header{status}><identifier>{text(self.oai_identifier(row.id))}</identifier>"
            f"<datestamp>{_stamp(row.updated)}</datestamp>{specs}</header>"
        )

    def _record(self, row: HarvestRow, prefix: str, ces: Mapping[str, list[str]]) -> str:
        header = self._header(row, ces)
        if row.deleted:
            return f"<record>{header}</record>"
        metadata = payload(
            prefix,
            row.metadata,
            identifier=row.identifier,
            landing=f"{self.records_url}{row.id}",
            datacentre=self.datacentre,
        )
        return f"<record>{header}<metadata>{metadata}</metadata></record>"


def _check_format(prefix: str) -> None:
    if prefix not in FORMATS:
        served = ", ".join(FORMATS)
        raise OaiError("cannotDisseminateFormat", f"{prefix!r} is not served here ({served})")


def _error(error: OaiError) -> str:
    return f'<error code="{error.code}">{text(error.message)}</error>'


__all__ = [
    "GRANULARITY",
    "OaiError",
    "OaiRepository",
    "Token",
    "checked_arguments",
    "decode_token",
    "encode_token",
    "parse_datestamp",
    "selection_of",
]
