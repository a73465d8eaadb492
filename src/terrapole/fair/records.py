"""The record book: drafts, curation and publication of metadata records, over one database.

Every move is one transaction checked against the state it started from (the table of
:mod:`terrapole.fair.record_workflow`). Publication asks the identifier provider first and
commits only once it succeeded: a provider that fails leaves the record approved and the
error says why. Published metadata never changes; :meth:`RecordBook.new_version` starts a new
record linked both ways to the previous one, sharing its concept id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from terrapole import db
from terrapole.access.policy import Principal
from terrapole.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from terrapole.fair import checks, describe
from terrapole.fair.identifiers import IdentifierFailed, IdentifierProvider, LocalIdentifiers
from terrapole.fair.model import Date, Record, RelatedIdentifier, Source, SourceKind
from terrapole.fair.record_workflow import (
    FROZEN,
    PUBLIC,
    InvalidRecordTransition,
    RecordOfDeposit,
    RecordRole,
    RecordState,
    check_move,
)
from terrapole.fair.tables import record_comments, record_history, record_versions, records
from terrapole.fair.visibility import describes_hidden, not_hidden

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
HiddenFor = Callable[[Principal], frozenset[str]]
"""The collections a principal may not read (``AccessService.hidden_for``)."""
_TEXT_MAX = 10_000


@dataclass(frozen=True)
class StoredRecord:
    """A record as the book keeps it: its metadata and where it is in the workflow."""

    id: str
    concept_id: str
    version_no: int
    state: RecordState
    owner: str
    record: Record
    identifier: str | None
    previous_id: str | None
    created: datetime
    updated: datetime
    published: datetime | None
    withdrawn_reason: str | None


@dataclass(frozen=True)
class Comment:
    """A review comment, optionally about one field (its DataCite JSON path)."""

    record_id: str
    author: str
    text: str
    field: str | None
    at: datetime


@dataclass(frozen=True)
class Move:
    """One line of a record's history."""

    start: RecordState | None
    finish: RecordState
    actor: str
    note: str
    at: datetime


def _stored(row: sa.Row[Any]) -> StoredRecord:
    return StoredRecord(
        row.id,
        row.concept_id,
        row.version_no,
        RecordState(row.state),
        row.owner,
        Record.from_json(row.metadata),
        row.identifier,
        row.previous_id,
        row.created,
        row.updated,
        row.published,
        row.withdrawn_reason,
    )


def actor_name(principal: Principal) -> str:
    """The name a record keeps of who acts: ``user:<id>`` for accounts, else the token's."""
    if principal.anonymous:
        raise Unauthorized("sign in to write records")
    return f"user:{principal.user_id}" if principal.user_id else principal.name


class RecordBook:
    """Metadata records over one database (``tp_fair_*`` tables, migration 0010).

    >>> book = RecordBook(engine, identifiers=LocalIdentifiers())  # doctest: +SKIP
    >>> draft = book.create(alice, record)  # doctest: +SKIP
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        identifiers: IdentifierProvider | None = None,
        clock: Clock | None = None,
        base_url: str = "http://127.0.0.1:8000",
        hidden: HiddenFor | None = None,
    ) -> None:
        self.engine = engine
        self.identifiers: IdentifierProvider = identifiers or LocalIdentifiers()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.base_url = base_url.rstrip("/")
        self.hidden_for: HiddenFor = hidden or (lambda principal: frozenset())

    # -- drafts -----------------------------------------------------------------------------

    def create(
        self, principal: Principal, record: Record, *, by_deposits: bool = False
    ) -> StoredRecord:
        """A new draft owned by ``principal`` (a new resource: its own concept id).

        The platform object it says it describes must be one the caller may name: a collection
        they may read; a deposit only through :class:`~terrapole.fair.deposits.Deposits`
        (``by_deposits``), which keeps a deposit and its record together; an in-situ dataset or
        a job's output only for curators (the ``describe_*`` methods, whose callers read the
        object as the principal, are not limited)."""
        self._check_source(principal, record.extras.source, by_deposits=by_deposits)
        return self._create(principal, record)

    def _create(self, principal: Principal, record: Record) -> StoredRecord:
        rid = uuid.uuid4().hex
        return self._insert(principal, rid, rid, 1, record, None)

    def _check_source(
        self, principal: Principal, source: Source | None, *, by_deposits: bool
    ) -> None:
        if source is None or (principal.curator and source.kind is not SourceKind.DEPOSIT):
            return
        if source.kind is SourceKind.DEPOSIT and not by_deposits:
            raise InvalidInput(
                "extras.source", "a deposit's record is made with the deposit (POST /deposits)"
            )
        if source.kind is SourceKind.COLLECTION and source.id in self._hidden(principal):
            raise NotFound("collection", source.id)
        if source.kind in (SourceKind.INSITU_DATASET, SourceKind.JOB_OUTPUT):
            raise Forbidden(f"only a curator names a {source.kind} as a record's source")

    def update(self, principal: Principal, record_id: str, record: Record) -> StoredRecord:
        """Replace a draft's metadata (owner or curator); refused once submitted or published."""
        with self.engine.begin() as con:
            current = self._locked(con, record_id)
            if not self._visible(principal, current):
                raise NotFound("record", record_id)
            self._roles(principal, current, write=True)
            if current.state is not RecordState.DRAFT:
                raise InvalidRecordTransition(record_id, current.state, current.state)
            record = replace(
                record, extras=replace(record.extras, source=current.record.extras.source)
            )
            con.execute(
                sa.update(records)
                .where(records.c.id == record_id)
                .values(metadata=record.to_json(), title=record.title[:2000], updated=self.clock())
            )
            return self._get(con, record_id)

    def _insert(
        self,
        principal: Principal,
        rid: str,
        concept: str,
        number: int,
        record: Record,
        previous: str | None,
    ) -> StoredRecord:
        owner = actor_name(principal)
        now = self.clock()
        source = record.extras.source
        with self.engine.begin() as con:
            con.execute(
                sa.insert(records).values(
                    id=rid,
                    concept_id=concept,
                    version_no=number,
                    state=RecordState.DRAFT.value,
                    owner=owner,
                    title=record.title[:2000],
                    metadata=record.to_json(),
                    identifier=None,
                    source_kind=source.kind.value if source else None,
                    source_id=source.id if source else None,
                    previous_id=previous,
                    created=now,
                    updated=now,
                    published=None,
                    withdrawn_reason=None,
                )
            )
            self._record(con, rid, None, RecordState.DRAFT, owner, "created")
            return self._get(con, rid)

    # -- describing the platform's data in one step -----------------------------------------

    def describe_collection(
        self, principal: Principal, collection: Mapping[str, Any]
    ) -> StoredRecord:
        """A draft for a STAC collection (see :func:`terrapole.fair.describe.collection_record`)."""
        return self._create(
            principal, describe.collection_record(collection, base_url=self.base_url)
        )

    def describe_insitu_dataset(
        self, principal: Principal, dataset_id: str, dataset: Mapping[str, Any]
    ) -> StoredRecord:
        """A draft for an in-situ dataset, given its id and ``Dataset.to_json()``."""
        made = describe.insitu_dataset_record(dataset_id, dataset, base_url=self.base_url)
        return self._create(principal, made)

    def describe_job_output(
        self,
        principal: Principal,
        job_id: str,
        process: str,
        items: Sequence[Mapping[str, Any]],
    ) -> StoredRecord:
        """A draft for a job's published STAC items, their inputs as IsDerivedFrom."""
        made = describe.job_output_record(job_id, process, items, base_url=self.base_url)
        return self._create(principal, made)

    # -- reading ----------------------------------------------------------------------------

    def get(self, principal: Principal, record_id: str) -> StoredRecord:
        """A record: published and withdrawn ones for anyone, others for owner and curators;
        none of a collection hidden from ``principal``."""
        with db.reading(self.engine) as con:
            stored = self._get(con, record_id)
        if not self._visible(principal, stored):
            raise NotFound("record", record_id)
        return stored

    def find(
        self,
        principal: Principal,
        *,
        state: RecordState | str | None = None,
        owner: str | None = None,
        text: str | None = None,
        source: Source | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[StoredRecord]:
        """Records ``principal`` may read, newest change first; filtered by state, owner, a
        word of the title, or the platform object they describe."""
        query = sa.select(records).order_by(records.c.updated.desc(), records.c.id)
        if state is not None:
            query = query.where(records.c.state == RecordState(state).value)
        if owner is not None:
            query = query.where(records.c.owner == owner)
        if text:
            query = query.where(sa.func.lower(records.c.title).contains(text.lower()))
        if source is not None:
            query = query.where(
                records.c.source_kind == source.kind.value, records.c.source_id == source.id
            )
        if not principal.curator:
            public = records.c.state.in_([s.value for s in PUBLIC])
            mine = records.c.owner == actor_name(principal) if not principal.anonymous else None
            query = query.where(public if mine is None else sa.or_(public, mine))
        query = query.where(*not_hidden(self._hidden(principal)))
        with db.reading(self.engine) as con:
            rows = con.execute(query.limit(max(1, min(limit, 1000))).offset(max(0, offset)))
            return [_stored(row) for row in rows]

    def versions(self, principal: Principal, record_id: str) -> list[StoredRecord]:
        """The published and withdrawn versions of the record's resource, oldest first (none
        when ``principal`` may not see the record's collection; an unknown id is 404)."""
        with db.reading(self.engine) as con:
            concept = self._get(con, record_id).concept_id
            rows = con.execute(
                sa.select(records)
                .where(
                    records.c.concept_id == concept,
                    records.c.state.in_([s.value for s in PUBLIC]),
                    *not_hidden(self._hidden(principal)),
                )
                .order_by(records.c.version_no)
            )
            return [_stored(row) for row in rows]

    def comments(self, principal: Principal, record_id: str) -> list[Comment]:
        """The review comments, oldest first (for the owner and curators)."""
        stored = self.get(principal, record_id)
        self._roles(principal, stored, write=False)
        with db.reading(self.engine) as con:
            rows = con.execute(
                sa.select(record_comments)
                .where(record_comments.c.record_id == record_id)
                .order_by(record_comments.c.n)
            )
            return [Comment(r.record_id, r.author, r.text, r.field, r.at) for r in rows]

    def history(self, principal: Principal, record_id: str) -> list[Move]:
        """The record's moves, oldest first, with their actors and notes (what curators said
        to the owner): for the owner and curators."""
        stored = self.get(principal, record_id)
        self._roles(principal, stored, write=False)
        with db.reading(self.engine) as con:
            rows = con.execute(
                sa.select(record_history)
                .where(record_history.c.record_id == record_id)
                .order_by(record_history.c.n)
            )
            return [
                Move(
                    RecordState(r.start) if r.start else None,
                    RecordState(r.finish),
                    r.actor,
                    r.note,
                    r.at,
                )
                for r in rows
            ]

    # -- review -----------------------------------------------------------------------------

    def submit(self, principal: Principal, record_id: str) -> StoredRecord:
        """Send a draft to the curators; every problem of :func:`checks.problems` refuses it."""
        stored = self.get(principal, record_id)
        checks.check(stored.record, today=self.clock().date())
        return self._move(principal, record_id, RecordState.SUBMITTED, "submitted")

    def comment(
        self, principal: Principal, record_id: str, text: str, *, field: str | None = None
    ) -> Comment:
        """A review comment by the owner or a curator."""
        if not text.strip() or len(text) > _TEXT_MAX:
            raise InvalidInput("comment", f"1 to {_TEXT_MAX} characters are required")
        stored = self.get(principal, record_id)
        self._roles(principal, stored, write=False)
        comment = Comment(record_id, actor_name(principal), text, field, self.clock())
        with self.engine.begin() as con:
            con.execute(
                sa.insert(record_comments).values(
                    record_id=record_id,
                    author=comment.author,
                    field=field,
                    text=text,
                    at=comment.at,
                )
            )
        return comment

    def request_changes(self, principal: Principal, record_id: str, note: str) -> StoredRecord:
        """A curator sends the record back to draft, saying what to change (kept as a comment)."""
        if not principal.curator:
            raise Forbidden("only a curator may request changes")
        if not note.strip() or len(note) > _TEXT_MAX:
            raise InvalidInput("note", f"1 to {_TEXT_MAX} characters are required")
        return self._move(principal, record_id, RecordState.DRAFT, note, comment=note)

    def approve(self, principal: Principal, record_id: str, note: str = "") -> StoredRecord:
        """A curator approves a submitted record (checked again: it may not have changed)."""
        checks.check(self.get(principal, record_id).record, today=self.clock().date())
        return self._move(principal, record_id, RecordState.APPROVED, note or "approved")

    def withdraw(self, principal: Principal, record_id: str, reason: str) -> StoredRecord:
        """A curator withdraws a published record: it stays as a tombstone saying why."""
        if not reason.strip() or len(reason) > _TEXT_MAX:
            raise InvalidInput("reason", "a withdrawal says why")
        return self._move(
            principal, record_id, RecordState.WITHDRAWN, reason, extra={"withdrawn_reason": reason}
        )

    # -- publication ------------------------------------------------------------------------

    def publish(
        self, principal: Principal, record_id: str, *, by_deposits: bool = False
    ) -> StoredRecord:
        """Publish an approved record: the provider registers and publishes its identifier,
        then the record, its Issued date and the immutable version are committed.

        A provider that fails raises its error and changes nothing here. A deposit's record is
        published by its deposit (``by_deposits``), which publishes the files with it.
        """
        stored = self.get(principal, record_id)
        self._not_a_deposit(stored, RecordState.PUBLISHED, "publish", by_deposits=by_deposits)
        check_move(record_id, stored.state, RecordState.PUBLISHED, self._roles(principal, stored))
        now = self.clock()
        record = stored.record
        if not any(d.date_type == "Issued" for d in record.dates):
            record = replace(record, dates=(*record.dates, Date(now.date().isoformat(), "Issued")))
        if record.publication_year is None:
            record = replace(record, publication_year=str(now.year))
        identifier = stored.identifier or self.identifiers.register(record_id, record)
        if self.identifiers.mints_dois:
            record = replace(record, doi=identifier)
        checks.check(record, today=now.date())
        self.identifiers.publish(record_id, identifier, record)
        published = self._move(
            principal,
            record_id,
            RecordState.PUBLISHED,
            "published",
            extra={
                "identifier": identifier,
                "metadata": record.to_json(),
                "published": now,
            },
            version=(identifier, record),
            previous=stored.previous_id,
        )
        if stored.previous_id is not None:
            self._tell_previous(stored.previous_id)
        return published

    def _tell_previous(self, previous_id: str) -> None:
        """Send the previous version's metadata, now IsPreviousVersionOf the new one, to the
        identifier provider. The publication is committed already: a provider that fails is
        logged (the link is on the landing page and in OAI-PMH; the next update carries it)."""
        with db.reading(self.engine) as con:
            old = self._get(con, previous_id)
        if old.identifier is None:
            return
        try:
            self.identifiers.update(old.identifier, old.record)
        except IdentifierFailed as exc:
            logger.warning("record %s: %s", previous_id, exc.message)

    @staticmethod
    def _not_a_deposit(
        stored: StoredRecord, finish: RecordState, route: str, *, by_deposits: bool
    ) -> None:
        source = stored.record.extras.source
        if not by_deposits and source is not None and source.kind is SourceKind.DEPOSIT:
            raise RecordOfDeposit(stored.id, source.id, stored.state, finish, route)

    def link_of(self, stored: StoredRecord) -> RelatedIdentifier:
        """How other records name ``stored`` (published): its DOI, else its landing page."""
        if self.identifiers.mints_dois and stored.identifier:
            return RelatedIdentifier(stored.identifier, "DOI", "References")
        return RelatedIdentifier(f"{self.base_url}/records/{stored.id}", "URL", "References")

    def new_version(
        self, principal: Principal, record_id: str, *, by_deposits: bool = False
    ) -> StoredRecord:
        """A draft of the next version of a published record: same concept id, metadata
        copied, ``IsNewVersionOf`` the old one. When it is published, the old record gains
        ``IsPreviousVersionOf`` it (a link the platform keeps; the rest of its metadata, and
        its published snapshot, stay as they were). A deposit's record gets its next version
        with the deposit's (``by_deposits``)."""
        old = self.get(principal, record_id)
        self._not_a_deposit(old, RecordState.DRAFT, "versions", by_deposits=by_deposits)
        if old.state is not RecordState.PUBLISHED:
            raise InvalidInput(
                "record", f"{record_id} is {old.state}: only a published record gets a new version"
            )
        self._roles(principal, old, write=True)
        assert old.identifier is not None
        link = replace(self.link_of(old), relation_type="IsNewVersionOf")
        links = [
            l_
            for l_ in old.record.related_identifiers
            if l_.relation_type not in ("IsNewVersionOf", "IsPreviousVersionOf")
        ]
        version = str(old.version_no + 1)
        record = replace(
            old.record,
            doi=None,
            version=version,
            related_identifiers=tuple(links),
            dates=tuple(d for d in old.record.dates if d.date_type != "Issued"),
            publication_year=str(self.clock().year),
        ).with_related(link)
        with db.reading(self.engine) as con:
            latest = con.execute(
                sa.select(sa.func.max(records.c.version_no)).where(
                    records.c.concept_id == old.concept_id
                )
            ).scalar_one()
        return self._insert(
            principal, uuid.uuid4().hex, old.concept_id, int(latest) + 1, record, old.id
        )

    def concept_url(self, stored: StoredRecord) -> str:
        """The URL that names every version of the resource (the concept)."""
        return f"{self.base_url}/records/concepts/{stored.concept_id}"

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _may_see(principal: Principal, owner: str) -> bool:
        if principal.curator:
            return True
        return not principal.anonymous and actor_name(principal) == owner

    def _hidden(self, principal: Principal) -> frozenset[str]:
        """The collections whose records ``principal`` may not see: those they may not read,
        except for curators, who review every record."""
        return frozenset() if principal.curator else self.hidden_for(principal)

    def _visible(self, principal: Principal, stored: StoredRecord) -> bool:
        """Public or the caller's (or a curator's), and not of a collection hidden from them."""
        if stored.state not in PUBLIC and not self._may_see(principal, stored.owner):
            return False
        return not describes_hidden(stored.record.extras.source, self._hidden(principal))

    def _roles(
        self, principal: Principal, stored: StoredRecord, *, write: bool = False
    ) -> frozenset[RecordRole]:
        roles = set()
        if not principal.anonymous and actor_name(principal) == stored.owner:
            roles.add(RecordRole.OWNER)
        if principal.curator:
            roles.add(RecordRole.CURATOR)
        if not roles:
            if principal.anonymous:
                raise Unauthorized("sign in to work on records")
            raise Forbidden(f"record {stored.id}: only its owner or a curator may do this")
        return frozenset(roles)

    @staticmethod
    def _get(con: sa.Connection, record_id: str) -> StoredRecord:
        row = con.execute(sa.select(records).where(records.c.id == record_id)).one_or_none()
        if row is None:
            raise NotFound("record", record_id)
        return _stored(row)

    def _locked(self, con: sa.Connection, record_id: str) -> StoredRecord:
        query = sa.select(records).where(records.c.id == record_id)
        if con.dialect.name == "postgresql":
            query = query.with_for_update()
        row = con.execute(query).one_or_none()
        if row is None:
            raise NotFound("record", record_id)
        return _stored(row)

    def _move(
        self,
        principal: Principal,
        record_id: str,
        finish: RecordState,
        note: str,
        *,
        extra: dict[str, Any] | None = None,
        version: tuple[str, Record] | None = None,
        previous: str | None = None,
        comment: str | None = None,
    ) -> StoredRecord:
        with self.engine.begin() as con:
            current = self._locked(con, record_id)
            if not self._visible(principal, current):
                raise NotFound("record", record_id)
            check_move(record_id, current.state, finish, self._roles(principal, current))
            now = self.clock()
            if comment is not None:  # said with the move: kept only if the move is made
                con.execute(
                    sa.insert(record_comments).values(
                        record_id=record_id, author=actor_name(principal), field=None,
                        text=comment, at=now,
                    )
                )  # fmt: skip
            done = con.execute(
                sa.update(records)
                .where(records.c.id == record_id, records.c.state == current.state.value)
                .values(state=finish.value, updated=now, **(extra or {}))
            )
            if done.rowcount != 1:  # another move won the race
                raise InvalidRecordTransition(record_id, current.state, finish)
            if version is not None:
                identifier, record = version
                con.execute(
                    sa.insert(record_versions).values(
                        record_id=record_id,
                        identifier=identifier,
                        metadata=record.to_json(),
                        published=now,
                    )
                )
            if previous is not None:
                self._link_back(con, previous, self._get(con, record_id), now)
            self._record(con, record_id, current.state, finish, actor_name(principal), note)
            return self._get(con, record_id)

    def _link_back(
        self, con: sa.Connection, previous_id: str, new: StoredRecord, now: datetime
    ) -> None:
        """The previous version gains IsPreviousVersionOf ``new``; its datestamp moves, so that
        harvesters asking for changes since then get it again."""
        old = self._locked(con, previous_id)
        link = replace(self.link_of(new), relation_type="IsPreviousVersionOf")
        record = old.record.with_related(link)
        con.execute(
            sa.update(records)
            .where(records.c.id == previous_id)
            .values(metadata=record.to_json(), updated=now)
        )

    def _record(
        self,
        con: sa.Connection,
        record_id: str,
        start: RecordState | None,
        finish: RecordState,
        actor: str,
        note: str,
    ) -> None:
        con.execute(
            sa.insert(record_history).values(
                record_id=record_id,
                start=start.value if start else None,
                finish=finish.value,
                actor=actor,
                note=note,
                at=self.clock(),
            )
        )


__all__ = ["FROZEN", "Comment", "Move", "RecordBook", "StoredRecord", "actor_name"]
