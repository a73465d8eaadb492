"""Long-tail deposits: a Zenodo-like repository of small datasets, over one database and the
storage.

A deposit is a draft that collects files and a metadata record (kept by the
:class:`~terrapole.fair.records.RecordBook`, which describes, reviews and publishes it). Files
arrive in resumable chunks (:meth:`Deposits.start_upload`, :meth:`Deposits.put_chunk`,
:meth:`Deposits.complete`): a chunk sent again is accepted once, the declared checksums are
verified at the end, and a mismatch keeps nothing. Publishing a deposit publishes its record
(the files listed with sizes, formats and checksums); a published deposit never changes, and
:meth:`Deposits.new_version` opens the next one with the same files.

Who reads the files is the access policy's answer for the key ``deposit-<id>`` (groups named
by a restriction, as for a collection), and an embargo hides them until its date, computed at
each check. The deposit's metadata stays visible to all once published. A deposit follows its
record: when a curator withdraws the record, the deposit reads as withdrawn and its files are
served to its owner and the curators only.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from terrapole import db
from terrapole.access.policy import ANONYMOUS, Principal
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound, TerrapoleError
from terrapole.fair import deposit_files as files_
from terrapole.fair.deposit_files import GEOTIFF, Digest
from terrapole.fair.deposit_tables import deposit_files, deposit_uploads, deposits
from terrapole.fair.model import (
    Description,
    Extras,
    Record,
    RelatedIdentifier,
    Source,
    SourceKind,
    Title,
    Types,
)
from terrapole.fair.record_workflow import RecordState
from terrapole.fair.records import RecordBook, StoredRecord, actor_name
from terrapole.fair.tables import records
from terrapole.storage import Storage

Clock = Callable[[], datetime]
MAX_CHUNK_BYTES = 64 * 1024 * 1024
"""The largest chunk one request may carry."""
MAX_GROUPS = 50


class DepositState(StrEnum):
    """A deposit is a draft until its record is published; then it never changes. It is
    withdrawn when its record is (read from the record at each look, never stored)."""

    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class AccessMode(StrEnum):
    """Who reads a deposit's files: everyone, nobody but its owner until a date, or groups."""

    OPEN = "open"
    EMBARGOED = "embargoed"
    RESTRICTED = "restricted"


class DepositFrozen(TerrapoleError):
    """A change asked of a deposit that is published, or whose record is under review (409)."""

    def __init__(self, deposit_id: str, reason: str) -> None:
        super().__init__(f"deposit {deposit_id}: {reason}")
        self.deposit_id, self.reason = deposit_id, reason


class OffsetMismatch(TerrapoleError):
    """A chunk sent at another offset than the upload has reached (409; resend from there)."""

    def __init__(self, upload_id: str, offset: int, received: int) -> None:
        super().__init__(
            f"upload {upload_id}: a chunk at byte {offset}, but {received} bytes were received: "
            f"send the chunk starting at byte {received}"
        )
        self.upload_id, self.offset, self.received = upload_id, offset, received


class ChecksumMismatch(InvalidInput):
    """The bytes received do not match the checksum declared: the file is refused (400)."""

    def __init__(self, name: str, algorithm: str, declared: str, computed: str) -> None:
        super().__init__(
            "file",
            f"{name}: the {algorithm} of the bytes received is {computed}, the one declared "
            f"{declared}; nothing was kept, upload it again",
        )
        self.name, self.algorithm, self.declared, self.computed = (
            name,
            algorithm,
            declared,
            computed,
        )


class AccessRules(Protocol):
    """What the deposits need of the access service: restricting a key, and asking it."""

    def restrict(self, collection_id: str, groups: list[str]) -> None:
        """Restrict the key to ``groups`` (none: open)."""
        ...

    def can_read(self, principal: Principal, collection_id: str) -> bool:
        """The access policy's answer for ``principal`` and the key."""
        ...


@dataclass(frozen=True)
class Access:
    """A deposit's access: ``until`` for an embargo, ``groups`` for a restriction."""

    mode: AccessMode = AccessMode.OPEN
    until: date | None = None
    groups: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, mode: str | AccessMode, until: date | str | None = None, groups: Any = ()
    ) -> Access:
        """Checked access from what an adapter received."""
        try:
            kind = AccessMode(mode)
        except ValueError:
            names = ", ".join(m.value for m in AccessMode)
            raise InvalidInput("access", f"{mode!r} is not one of {names}") from None
        day: date | None = None
        if isinstance(until, str) and until.strip():
            try:
                day = date.fromisoformat(until.strip())
            except ValueError:
                raise InvalidInput("embargo_until", f"{until!r} is not a date") from None
        elif isinstance(until, date):
            day = until
        if kind is AccessMode.EMBARGOED and day is None:
            raise InvalidInput("embargo_until", "an embargo needs the date it ends")
        named = tuple(sorted({str(g).strip() for g in groups or () if str(g).strip()}))
        if len(named) > MAX_GROUPS or any(len(g) > 200 for g in named):
            raise InvalidInput("groups", f"at most {MAX_GROUPS} names of 200 characters")
        if kind is AccessMode.RESTRICTED and not named:
            raise InvalidInput("groups", "a restricted deposit names the groups that may read it")
        return cls(
            kind,
            day if kind is AccessMode.EMBARGOED else None,
            named if kind is AccessMode.RESTRICTED else (),
        )


@dataclass(frozen=True)
class DepositFile:
    """A file of a deposit: its safe name, size, checksums, media type, where its bytes are
    (a content-addressed blob) and, for a GeoTIFF, the COG its map is drawn from."""

    name: str
    size: int
    sha256: str
    md5: str
    format: str
    key: str
    preview_key: str | None
    added: datetime


@dataclass(frozen=True)
class Deposit:
    """One version of a deposited dataset."""

    id: str
    concept_id: str
    version_no: int
    previous_id: str | None
    owner: str
    title: str
    state: DepositState
    access: Access
    record_id: str
    created: datetime
    updated: datetime
    published: datetime | None
    files: tuple[DepositFile, ...] = ()
    withdrawn_reason: str | None = None
    """Why a curator withdrew the deposit's record (a withdrawn deposit only)."""

    @property
    def access_key(self) -> str:
        """The name the access policy knows the deposit's files by."""
        return access_key(self.id)

    def file(self, name: str) -> DepositFile:
        """The file called ``name``."""
        for found in self.files:
            if found.name == name:
                return found
        raise NotFound("file", f"{self.id}/{name}")


@dataclass(frozen=True)
class Upload:
    """A file on its way in: how much it declared and how much arrived."""

    id: str
    deposit_id: str
    name: str
    size: int
    sha256: str | None
    md5: str | None
    received: int
    created: datetime


def access_key(deposit_id: str) -> str:
    """The access-policy key of a deposit's files.

    >>> access_key("ab12")
    'deposit-ab12'
    """
    return f"deposit-{deposit_id}"


def blob_key(sha256: str) -> str:
    """Where the bytes of that checksum live (shared by every file holding them)."""
    return f"deposits/blobs/{sha256}/data"


def _chunk_prefix(upload_id: str, offset: int) -> str:
    return f"deposits/uploads/{upload_id}/{offset:015d}"


def _hex(value: Any, length: int, name: str) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if len(text) != length or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInput(name, f"{str(value)[:80]!r} is not {length} hexadecimal digits")
    return text


def deposit_record(deposit: Deposit, record: Record, *, base_url: str) -> Record:
    """``record`` listing the deposit's files: formats, sizes, each file a part (HasPart, its
    URL) and the checksums as TechnicalInfo, what it describes being the deposit."""
    base = base_url.rstrip("/")
    listed = [
        f"{f.name}: {f.size} bytes, {f.format}, sha256:{f.sha256}, md5:{f.md5}"
        for f in deposit.files
    ]
    kept = tuple(
        d for d in record.descriptions if not d.description.startswith("Files of deposit ")
    )
    technical = Description(f"Files of deposit {deposit.id}: " + "; ".join(listed), "TechnicalInfo")
    mine = f"/deposits/{deposit.id}/files/"
    links = tuple(
        link
        for link in record.related_identifiers
        if not (link.relation_type == "HasPart" and mine in link.related_identifier)
    )
    parts = tuple(
        RelatedIdentifier(f"{base}/deposits/{deposit.id}/files/{f.name}", "URL", "HasPart")
        for f in deposit.files
    )
    return replace(
        record,
        formats=tuple(dict.fromkeys(f.format for f in deposit.files)),
        sizes=tuple(f"{f.size} bytes" for f in deposit.files),
        descriptions=(*kept, technical) if deposit.files else kept,
        related_identifiers=links + parts,
        extras=replace(record.extras, source=Source(SourceKind.DEPOSIT, deposit.id)),
    )


class Deposits:
    """Deposits over the database of ``book`` and ``storage``; ``access`` is the access
    service (restrictions of ``deposit-<id>`` keys); ``clock`` gives the time (embargoes)."""

    def __init__(
        self,
        book: RecordBook,
        storage: Storage,
        access: AccessRules,
        *,
        max_file_bytes: int = 5_000_000_000,
        clock: Clock | None = None,
    ) -> None:
        self.book = book
        self.engine = book.engine
        self.storage = storage
        self.access = access
        self.max_file_bytes = max_file_bytes
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- deposits ------------------------------------------------------------------------------

    def create(self, principal: Principal, title: str, access: Access | None = None) -> Deposit:
        """A new draft deposit owned by ``principal``, with its draft record."""
        if not title.strip() or len(title) > 2000:
            raise InvalidInput("title", "1 to 2000 characters are required")
        owner = actor_name(principal)
        did = uuid.uuid4().hex
        record = Record(
            titles=(Title(title.strip()),),
            types=Types("Dataset", "Deposit"),
            extras=Extras(source=Source(SourceKind.DEPOSIT, did)),
        )
        stored = self.book.create(principal, record, by_deposits=True)
        self._insert(did, did, 1, None, owner, title.strip(), access or Access(), stored.id)
        return self.get(principal, did)

    def _insert(
        self,
        did: str,
        concept: str,
        number: int,
        previous: str | None,
        owner: str,
        title: str,
        access: Access,
        record_id: str,
    ) -> None:
        now = self.clock()
        with self.engine.begin() as con:
            con.execute(
                sa.insert(deposits).values(
                    id=did, concept_id=concept, version_no=number, previous_id=previous,
                    owner=owner, title=title[:2000], state=DepositState.DRAFT.value,
                    access=access.mode.value, embargo_until=access.until,
                    groups=list(access.groups), record_id=record_id, created=now, updated=now,
                    published=None,
                )
            )  # fmt: skip
        self._apply_access(did, access)

    def _apply_access(self, did: str, access: Access) -> None:
        self.access.restrict(access_key(did), list(access.groups))

    def get(self, principal: Principal, deposit_id: str) -> Deposit:
        """A deposit: published ones for anyone (their metadata), drafts for owner and curators."""
        with db.reading(self.engine) as con:
            found = self._get(con, deposit_id)
        if found.state is DepositState.DRAFT and not self._may_edit(principal, found):
            raise NotFound("deposit", deposit_id)
        return self._following_record(found)

    def find(
        self, principal: Principal, *, mine: bool = True, limit: int = 100, offset: int = 0
    ) -> list[Deposit]:
        """The caller's deposits (``mine``), else the published ones; newest first."""
        query = sa.select(deposits).order_by(deposits.c.updated.desc(), deposits.c.id)
        if mine:
            query = query.where(deposits.c.owner == actor_name(principal))
        else:
            query = query.where(deposits.c.state == DepositState.PUBLISHED.value)
        query = query.limit(max(1, min(limit, 1000))).offset(max(0, offset))
        with db.reading(self.engine) as con:
            rows = con.execute(query).all()
            found = [self._with_files(con, row) for row in rows]
        return [self._following_record(d) for d in found]

    def record(self, principal: Principal, deposit_id: str) -> StoredRecord:
        """The record describing the deposit."""
        return self.book.get(principal, self.get(principal, deposit_id).record_id)

    def set_access(self, principal: Principal, deposit_id: str, access: Access) -> Deposit:
        """Change a draft's access (open, embargo, restriction)."""
        current = self._editable(principal, deposit_id, files=False)
        with self.engine.begin() as con:
            con.execute(
                sa.update(deposits)
                .where(deposits.c.id == current.id)
                .values(access=access.mode.value, embargo_until=access.until,
                        groups=list(access.groups), updated=self.clock())
            )  # fmt: skip
        self._apply_access(current.id, access)
        return self.get(principal, deposit_id)

    # -- who reads the files -------------------------------------------------------------------

    def may_read_files(self, principal: Principal, deposit: Deposit) -> bool:
        """Whether ``principal`` may download and preview the deposit's files now: its owner
        and curators always; others once published (not withdrawn), after the embargo's date,
        and, when it is restricted, as the access policy answers for ``deposit-<id>``."""
        if self._may_edit(principal, deposit):
            return True
        if deposit.state is not DepositState.PUBLISHED:
            return False
        if deposit.access.mode is AccessMode.EMBARGOED:
            assert deposit.access.until is not None
            return self.clock().date() >= deposit.access.until
        if deposit.access.mode is AccessMode.RESTRICTED:
            return self.access.can_read(principal, deposit.access_key)
        return True

    def readable_file(self, principal: Principal, deposit_id: str, name: str) -> DepositFile:
        """A file the caller may read (Forbidden naming why not)."""
        deposit = self.get(principal, deposit_id)
        found = deposit.file(name)
        if not self.may_read_files(principal, deposit):
            if deposit.state is DepositState.WITHDRAWN:
                raise Forbidden(
                    f"deposit {deposit_id}: its record was withdrawn "
                    f"({deposit.withdrawn_reason}); its files are no longer served"
                )
            if deposit.access.mode is AccessMode.EMBARGOED:
                raise Forbidden(
                    f"deposit {deposit_id}: its files are embargoed until {deposit.access.until}"
                )
            raise Forbidden(f"deposit {deposit_id}: its files are restricted to named groups")
        return found

    def local_file(self, principal: Principal, deposit_id: str, name: str) -> Path:
        """The local path of a file the caller may read."""
        return self.storage.local_path(self.readable_file(principal, deposit_id, name).key)

    def map_source(self, principal: Principal, deposit_id: str, name: str) -> Path:
        """The COG a GeoTIFF's map is drawn from (itself when it is one; made at publish, or
        now for a draft), for a caller who may read it."""
        found = self.readable_file(principal, deposit_id, name)
        if found.format != GEOTIFF:
            raise InvalidInput("file", f"{name} is {found.format}, not a GeoTIFF: no map")
        key = found.preview_key or self._preview(found)
        return self.storage.local_path(key)

    def table(self, principal: Principal, deposit_id: str, name: str) -> files_.Table:
        """The first rows of a CSV file, columns typed."""
        found = self.readable_file(principal, deposit_id, name)
        if found.format not in (files_.CSV, "text/tab-separated-values"):
            raise InvalidInput("file", f"{name} is {found.format}, not a CSV: no table")
        return files_.csv_table(self.storage.local_path(found.key))

    # -- uploads -------------------------------------------------------------------------------

    def start_upload(
        self,
        principal: Principal,
        deposit_id: str,
        name: str,
        size: int,
        *,
        sha256: str | None = None,
        md5: str | None = None,
    ) -> Upload:
        """Open an upload of ``size`` bytes named ``name`` (sanitised); the checksums declared
        (SHA-256 and/or MD5, at least one) are verified when it completes."""
        deposit = self._editable(principal, deposit_id)
        safe = files_.safe_name(name)
        if not isinstance(size, int) or size < 1:
            raise InvalidInput("size", f"{size!r}: a file has at least 1 byte")
        if size > self.max_file_bytes:
            raise InvalidInput(
                "size", f"{size} bytes is over the limit of {self.max_file_bytes} bytes a file"
            )
        sha, md = _hex(sha256, 64, "sha256"), _hex(md5, 32, "md5")
        if sha is None and md is None:
            raise InvalidInput("sha256", "declare the file's SHA-256 (or MD5) to verify it")
        if any(f.name == safe for f in deposit.files):
            raise AlreadyExists("file", f"{deposit_id}/{safe}")
        upload = Upload(uuid.uuid4().hex, deposit_id, safe, size, sha, md, 0, self.clock())
        with self.engine.begin() as con:
            con.execute(
                sa.insert(deposit_uploads).values(
                    id=upload.id, deposit_id=deposit_id, name=safe, size=size, sha256=sha,
                    md5=md, received=0, created=upload.created,
                )
            )  # fmt: skip
        return upload

    def upload(self, principal: Principal, upload_id: str) -> Upload:
        """An upload under way (how many bytes arrived: where to resume)."""
        with db.reading(self.engine) as con:
            found = self._upload(con, upload_id)
        self._editable(principal, found.deposit_id)
        return found

    def put_chunk(self, principal: Principal, upload_id: str, offset: int, data: bytes) -> Upload:
        """Store the bytes of ``data`` at ``offset``. The next offset is taken; a chunk that
        was stored already (a retry after a lost answer) is accepted again if its bytes are
        the same; any other offset is :class:`OffsetMismatch`, saying where to resume."""
        current = self.upload(principal, upload_id)
        if not data:
            raise InvalidInput("chunk", "a chunk carries at least 1 byte")
        if len(data) > MAX_CHUNK_BYTES:
            raise InvalidInput("chunk", f"{len(data)} bytes: at most {MAX_CHUNK_BYTES} a chunk")
        if offset < 0 or offset + len(data) > current.size:
            raise InvalidInput(
                "offset", f"bytes {offset}..{offset + len(data)} go past the {current.size} "
                "bytes declared"
            )  # fmt: skip
        prefix = _chunk_prefix(upload_id, offset)
        if offset < current.received:
            key = f"{prefix}/chunk"
            if self.storage.exists(key):
                stored = self.storage.local_path(key).read_bytes()
                if stored == data:
                    return current  # the same chunk again: nothing to do
            raise OffsetMismatch(upload_id, offset, current.received)
        if offset > current.received:
            raise OffsetMismatch(upload_id, offset, current.received)
        staged = self.storage.new_staging("chunk")
        try:
            (staged / "chunk").write_bytes(data)
            with self.storage.publish(staged, prefix), self.engine.begin() as con:
                done = con.execute(
                    sa.update(deposit_uploads)
                    .where(deposit_uploads.c.id == upload_id,
                           deposit_uploads.c.received == offset)
                    .values(received=offset + len(data))
                )  # fmt: skip
                if done.rowcount != 1:  # another request stored this chunk meanwhile
                    raise OffsetMismatch(upload_id, offset, current.received)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        return replace(current, received=offset + len(data))

    def cancel_upload(self, principal: Principal, upload_id: str) -> None:
        """Drop an upload and the chunks it received."""
        self.upload(principal, upload_id)
        self._drop_upload(upload_id)

    def complete(self, principal: Principal, upload_id: str) -> DepositFile:
        """Join the chunks, verify size and checksums, and add the file to the deposit.

        A checksum that does not match raises :class:`ChecksumMismatch` and keeps nothing:
        the chunks and the upload are dropped.
        """
        current = self.upload(principal, upload_id)
        if current.received != current.size:
            raise InvalidInput(
                "upload", f"{current.received} of {current.size} bytes received: send the rest "
                f"from byte {current.received}"
            )  # fmt: skip
        keys = self.storage.list(f"deposits/uploads/{upload_id}")
        staged = self.storage.new_staging("deposit")
        try:
            target = staged / "data"
            digest = files_.concatenate((self.storage.local_path(k) for k in keys), target)
            try:
                self._verify(current, digest)
            except ChecksumMismatch:
                self._drop_upload(upload_id)
                raise
            made = DepositFile(
                current.name, digest.size, digest.sha256, digest.md5,
                files_.format_of(current.name, target), blob_key(digest.sha256), None,
                self.clock(),
            )  # fmt: skip
            key_prefix = made.key.rsplit("/", 1)[0]
            if self.storage.exists(made.key):
                shutil.rmtree(staged, ignore_errors=True)
                self._add_file(principal, current, made)
            else:
                with self.storage.publish(staged, key_prefix):
                    self._add_file(principal, current, made)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        self._drop_upload(upload_id)
        return made

    @staticmethod
    def _verify(upload: Upload, digest: Digest) -> None:
        if digest.size != upload.size:
            raise ChecksumMismatch(upload.name, "size", str(upload.size), str(digest.size))
        if upload.sha256 is not None and upload.sha256 != digest.sha256:
            raise ChecksumMismatch(upload.name, "SHA-256", upload.sha256, digest.sha256)
        if upload.md5 is not None and upload.md5 != digest.md5:
            raise ChecksumMismatch(upload.name, "MD5", upload.md5, digest.md5)

    def _add_file(self, principal: Principal, upload: Upload, made: DepositFile) -> None:
        self._editable(principal, upload.deposit_id)
        with self.engine.begin() as con:
            taken = con.execute(
                sa.select(deposit_files.c.name).where(
                    deposit_files.c.deposit_id == upload.deposit_id,
                    deposit_files.c.name == upload.name,
                )
            ).first()
            if taken:
                raise AlreadyExists("file", f"{upload.deposit_id}/{upload.name}")
            con.execute(
                sa.insert(deposit_files).values(
                    deposit_id=upload.deposit_id, name=made.name, size=made.size,
                    sha256=made.sha256, md5=made.md5, format=made.format, key=made.key,
                    preview_key=None, added=made.added,
                )
            )  # fmt: skip
            self._touch(con, upload.deposit_id)

    def _drop_upload(self, upload_id: str) -> None:
        with self.engine.begin() as con:
            con.execute(sa.delete(deposit_uploads).where(deposit_uploads.c.id == upload_id))
        self.storage.delete_prefix(f"deposits/uploads/{upload_id}")

    def delete_file(self, principal: Principal, deposit_id: str, name: str) -> None:
        """Remove a file from a draft (its bytes go when no deposit lists them any more)."""
        deposit = self._editable(principal, deposit_id)
        found = deposit.file(name)
        with self.engine.begin() as con:
            con.execute(
                sa.delete(deposit_files).where(
                    deposit_files.c.deposit_id == deposit_id, deposit_files.c.name == name
                )
            )
            self._touch(con, deposit_id)
            still = con.execute(
                sa.select(sa.func.count()).where(deposit_files.c.sha256 == found.sha256)
            ).scalar_one()
        if not still:
            self.storage.delete_prefix(found.key.rsplit("/", 1)[0])
            if found.preview_key:
                self.storage.delete_prefix(found.preview_key.rsplit("/", 1)[0])

    # -- review and publication ----------------------------------------------------------------

    def describe(self, principal: Principal, deposit_id: str, record: Record) -> StoredRecord:
        """Replace the draft record's metadata (the minimal form; the record editor does it
        through the record book), the files listed again."""
        deposit = self._editable(principal, deposit_id, files=False)
        listed = deposit_record(deposit, record, base_url=self.book.base_url)
        stored = self.book.update(principal, deposit.record_id, listed)
        self._retitle(deposit.id, stored.record.title)
        return stored

    def submit(self, principal: Principal, deposit_id: str) -> StoredRecord:
        """List the files in the record and send it to the curators (every problem refuses)."""
        deposit = self._editable(principal, deposit_id)
        if not deposit.files:
            raise InvalidInput("files", f"deposit {deposit_id} has no file to publish")
        current = self.book.get(principal, deposit.record_id)
        listed = deposit_record(deposit, current.record, base_url=self.book.base_url)
        self.book.update(principal, deposit.record_id, listed)
        self._retitle(deposit.id, listed.title)
        return self.book.submit(principal, deposit.record_id)

    def publish(self, principal: Principal, deposit_id: str) -> Deposit:
        """Publish the deposit's approved record (its identifier: a DOI or a local one) and
        freeze the deposit. GeoTIFFs that are not COGs get a COG for their map first. A
        provider that fails leaves the deposit a draft."""
        deposit = self.get(principal, deposit_id)
        if deposit.state is not DepositState.DRAFT:
            raise DepositFrozen(deposit_id, f"is {deposit.state} already")
        stored = self.book.get(principal, deposit.record_id)
        if stored.state is not RecordState.APPROVED:
            raise DepositFrozen(
                deposit_id, f"its record is {stored.state}: a curator approves it before it is "
                "published"
            )  # fmt: skip
        for found in deposit.files:
            if found.format == GEOTIFF and found.preview_key is None:
                self._preview(found)
        self.book.publish(principal, deposit.record_id, by_deposits=True)
        with self.engine.begin() as con:
            con.execute(
                sa.update(deposits)
                .where(deposits.c.id == deposit_id)
                .values(state=DepositState.PUBLISHED.value, published=self.clock(),
                        updated=self.clock())
            )  # fmt: skip
        return self.get(principal, deposit_id)

    def new_version(self, principal: Principal, deposit_id: str) -> Deposit:
        """A draft of the next version: the same files (the same blobs), the same access, and
        the next version of the record (IsNewVersionOf the published one)."""
        old = self.get(principal, deposit_id)
        if old.state is DepositState.WITHDRAWN:
            raise DepositFrozen(deposit_id, "its record was withdrawn: it gets no new version")
        if old.state is not DepositState.PUBLISHED:
            raise InvalidInput("deposit", f"{deposit_id} is a draft: publish it first")
        if not self._may_edit(principal, old):
            raise Forbidden(f"deposit {deposit_id}: only its owner or a curator may do this")
        record = self.book.new_version(principal, old.record_id, by_deposits=True)
        did = uuid.uuid4().hex
        with db.reading(self.engine) as con:
            latest = con.execute(
                sa.select(sa.func.max(deposits.c.version_no)).where(
                    deposits.c.concept_id == old.concept_id
                )
            ).scalar_one()
        self._insert(did, old.concept_id, int(latest) + 1, old.id, actor_name(principal),
                     old.title, old.access, record.id)  # fmt: skip
        with self.engine.begin() as con:
            for f in old.files:
                con.execute(
                    sa.insert(deposit_files).values(
                        deposit_id=did, name=f.name, size=f.size, sha256=f.sha256, md5=f.md5,
                        format=f.format, key=f.key, preview_key=f.preview_key, added=f.added,
                    )
                )  # fmt: skip
        return self.get(principal, did)

    def versions(self, deposit_id: str) -> list[Deposit]:
        """Every version of the deposit's dataset (drafts included), oldest first."""
        with db.reading(self.engine) as con:
            concept = self._get(con, deposit_id).concept_id
            rows = con.execute(
                sa.select(deposits)
                .where(deposits.c.concept_id == concept)
                .order_by(deposits.c.version_no)
            ).all()
            found = [self._with_files(con, row) for row in rows]
        return [self._following_record(d) for d in found]

    # -- internals -----------------------------------------------------------------------------

    def _preview(self, found: DepositFile) -> str:
        """The key of the COG a GeoTIFF is mapped from, made (and recorded) if needed."""
        source = self.storage.local_path(found.key)
        prefix = f"deposits/previews/{found.sha256}"
        key = f"{prefix}/cog.tif"
        if not self.storage.exists(key):
            staged = self.storage.new_staging("cog")
            try:
                if not files_.make_cog(source, staged / "cog.tif"):
                    key = found.key
                else:
                    with self.storage.publish(staged, prefix):
                        pass
            finally:
                shutil.rmtree(staged, ignore_errors=True)
        with self.engine.begin() as con:
            con.execute(
                sa.update(deposit_files)
                .where(deposit_files.c.sha256 == found.sha256)
                .values(preview_key=key)
            )
        return key

    def _following_record(self, deposit: Deposit) -> Deposit:
        """``deposit`` withdrawn when it is published and a curator withdrew its record (the
        record book says so: a withdrawal goes through the records, not the deposits)."""
        if deposit.state is not DepositState.PUBLISHED:
            return deposit
        stored = self.book.get(ANONYMOUS, deposit.record_id)  # published or withdrawn: public
        if stored.state is not RecordState.WITHDRAWN:
            return deposit
        return replace(
            deposit, state=DepositState.WITHDRAWN, withdrawn_reason=stored.withdrawn_reason
        )

    def _retitle(self, deposit_id: str, title: str) -> None:
        if title:
            with self.engine.begin() as con:
                con.execute(
                    sa.update(deposits).where(deposits.c.id == deposit_id).values(title=title)
                )

    @staticmethod
    def _may_edit(principal: Principal, deposit: Deposit) -> bool:
        if principal.anonymous:
            return False
        return principal.curator or actor_name(principal) == deposit.owner

    def _editable(self, principal: Principal, deposit_id: str, *, files: bool = True) -> Deposit:
        """The deposit, if the caller may change it now: a draft, by its owner or a curator,
        and for its files, while its record is a draft too (under review they are listed)."""
        deposit = self.get(principal, deposit_id)
        if not self._may_edit(principal, deposit):
            raise Forbidden(f"deposit {deposit_id}: only its owner or a curator may change it")
        if deposit.state is DepositState.WITHDRAWN:
            raise DepositFrozen(deposit_id, "its record was withdrawn: it never changes")
        if deposit.state is DepositState.PUBLISHED:
            raise DepositFrozen(deposit_id, "is published: make a new version to change it")
        if files:
            with db.reading(self.engine) as con:
                state = con.execute(
                    sa.select(records.c.state).where(records.c.id == deposit.record_id)
                ).scalar_one()
            if state != RecordState.DRAFT.value:
                raise DepositFrozen(
                    deposit_id, f"its record is {state}: its files change only while it is a draft"
                )
        return deposit

    def _touch(self, con: sa.Connection, deposit_id: str) -> None:
        con.execute(
            sa.update(deposits).where(deposits.c.id == deposit_id).values(updated=self.clock())
        )

    @staticmethod
    def _upload(con: sa.Connection, upload_id: str) -> Upload:
        row = con.execute(
            sa.select(deposit_uploads).where(deposit_uploads.c.id == upload_id)
        ).one_or_none()
        if row is None:
            raise NotFound("upload", upload_id)
        return Upload(row.id, row.deposit_id, row.name, int(row.size), row.sha256, row.md5,
                      int(row.received), row.created)  # fmt: skip

    def _get(self, con: sa.Connection, deposit_id: str) -> Deposit:
        row = con.execute(sa.select(deposits).where(deposits.c.id == deposit_id)).one_or_none()
        if row is None:
            raise NotFound("deposit", deposit_id)
        return self._with_files(con, row)

    @staticmethod
    def _with_files(con: sa.Connection, row: sa.Row[Any]) -> Deposit:
        rows = con.execute(
            sa.select(deposit_files)
            .where(deposit_files.c.deposit_id == row.id)
            .order_by(deposit_files.c.name)
        ).all()
        files = tuple(
            DepositFile(
                r.name, int(r.size), r.sha256, r.md5, r.format, r.key, r.preview_key, r.added
            )  # fmt: skip
            for r in rows
        )
        access = Access(AccessMode(row.access), row.embargo_until, tuple(row.groups or ()))
        return Deposit(
            row.id, row.concept_id, row.version_no, row.previous_id, row.owner, row.title,
            DepositState(row.state), access, row.record_id, row.created, row.updated,
            row.published, files,
        )  # fmt: skip


__all__ = [
    "Access",
    "AccessMode",
    "ChecksumMismatch",
    "Deposit",
    "DepositFile",
    "DepositFrozen",
    "DepositState",
    "Deposits",
    "OffsetMismatch",
    "Upload",
    "access_key",
    "deposit_record",
]
