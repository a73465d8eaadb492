"""Long-tail deposits on SQLite and PostgreSQL, with real files (a THEIA Sentinel-2 COG and the
CAMELS discharge CSV): chunked uploads with a retried chunk, a checksum mismatch that keeps
nothing, embargo and restriction through the access policy, immutability, new versions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from terrapole.access import AccessService
from terrapole.access.policy import ANONYMOUS, Principal
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound
from terrapole.fair.deposit_files import GEOTIFF, csv_table, safe_name
from terrapole.fair.deposits import (
    Access,
    AccessMode,
    ChecksumMismatch,
    DepositFrozen,
    Deposits,
    DepositState,
    OffsetMismatch,
)
from terrapole.fair.records import RecordBook
from terrapole.storage import LocalStorage

from .records_fixtures import complete_record

DATA = Path(__file__).resolve().parents[1] / "data"
COG = (
    DATA / "t31ufq" / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
    / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8_FRE_B4.tif"
)  # fmt: skip
CAMELS_CSV = DATA / "insitu" / "pivot_camels" / "CAMU_OBS_01022500_Q.csv"

ALICE = Principal(name="alice-token", user_id="alice")
BOB = Principal(name="bob-token", user_id="bob", groups=frozenset({"hydro"}))
EVE = Principal(name="eve-token", user_id="eve")
CURATOR = Principal(name="curator-token", user_id="cora", roles=frozenset({"curator"}))


class Clock:
    """A clock the tests move."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deposits(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Deposits]:
    access = AccessService(database_url, ttl=0.0)
    book = RecordBook(access.engine, clock=clock)
    yield Deposits(book, LocalStorage(tmp_path / "assets"), access, max_file_bytes=10_000_000,
                   clock=clock)  # fmt: skip
    access.close()


def _upload(deposits: Deposits, who: Principal, did: str, path: Path, *, chunk: int = 4096,
            name: str | None = None) -> None:  # fmt: skip
    data = path.read_bytes()
    upload = deposits.start_upload(
        who, did, name or path.name, len(data), sha256=hashlib.sha256(data).hexdigest()
    )
    for offset in range(0, len(data), chunk):
        deposits.put_chunk(who, upload.id, offset, data[offset : offset + chunk])
    deposits.complete(who, upload.id)


def _published(deposits: Deposits, did: str, who: Principal = ALICE) -> None:
    record = deposits.record(who, did).record
    full = replace(complete_record(), titles=record.titles, extras=record.extras)
    deposits.describe(who, did, full)
    deposits.submit(who, did)
    deposits.book.approve(CURATOR, deposits.get(who, did).record_id)
    deposits.publish(who, did)


def test_a_chunked_upload_accepts_a_retried_chunk_and_keeps_the_real_bytes(
    deposits: Deposits,
) -> None:
    deposit = deposits.create(ALICE, "Verdun forest, Sentinel-2 red band")
    data = COG.read_bytes()
    upload = deposits.start_upload(ALICE, deposit.id, COG.name, len(data),
                                   sha256=hashlib.sha256(data).hexdigest(),
                                   md5=hashlib.md5(data).hexdigest())  # fmt: skip
    assert deposits.put_chunk(ALICE, upload.id, 0, data[:5000]).received == 5000
    # the answer was lost: the same chunk comes again, and changes nothing
    assert deposits.put_chunk(ALICE, upload.id, 0, data[:5000]).received == 5000
    with pytest.raises(OffsetMismatch, match="send the chunk starting at byte 5000"):
        deposits.put_chunk(ALICE, upload.id, 9000, data[9000:10000])
    with pytest.raises(OffsetMismatch):  # other bytes at a stored offset are not a retry
        deposits.put_chunk(ALICE, upload.id, 0, b"x" * 5000)
    with pytest.raises(InvalidInput, match="5000 of 13168 bytes received"):
        deposits.complete(ALICE, upload.id)
    assert deposits.upload(ALICE, upload.id).received == 5000  # where to resume
    deposits.put_chunk(ALICE, upload.id, 5000, data[5000:])
    added = deposits.complete(ALICE, upload.id)
    assert (added.size, added.sha256, added.format) == (
        len(data),
        hashlib.sha256(data).hexdigest(),
        GEOTIFF,
    )
    assert deposits.local_file(ALICE, deposit.id, COG.name).read_bytes() == data
    with pytest.raises(NotFound):  # the upload is over
        deposits.upload(ALICE, upload.id)


def test_a_checksum_mismatch_refuses_the_file_and_keeps_nothing(
    deposits: Deposits, tmp_path: Path
) -> None:
    deposit = deposits.create(ALICE, "Discharge")
    data = CAMELS_CSV.read_bytes()
    wrong = hashlib.sha256(data + b"\n").hexdigest()
    upload = deposits.start_upload(ALICE, deposit.id, CAMELS_CSV.name, len(data), sha256=wrong)
    deposits.put_chunk(ALICE, upload.id, 0, data)
    with pytest.raises(ChecksumMismatch, match=f"declared {wrong}"):
        deposits.complete(ALICE, upload.id)
    assert deposits.get(ALICE, deposit.id).files == ()
    with pytest.raises(NotFound):
        deposits.upload(ALICE, upload.id)
    stored = [p for p in (tmp_path / "assets" / "deposits").rglob("*") if p.is_file()]
    assert stored == []


def test_bad_uploads_are_refused_naming_the_problem(deposits: Deposits) -> None:
    deposit = deposits.create(ALICE, "Limits")
    with pytest.raises(InvalidInput, match="over the limit of 10000000 bytes"):
        deposits.start_upload(ALICE, deposit.id, "big.tif", 10_000_001, sha256="a" * 64)
    with pytest.raises(InvalidInput, match="SHA-256"):
        deposits.start_upload(ALICE, deposit.id, "a.csv", 10)
    with pytest.raises(InvalidInput, match="hexadecimal"):
        deposits.start_upload(ALICE, deposit.id, "a.csv", 10, sha256="xyz")
    with pytest.raises(InvalidInput, match="no usable file name"):
        deposits.start_upload(ALICE, deposit.id, "../..", 10, md5="a" * 32)
    upload = deposits.start_upload(ALICE, deposit.id, "../../etc/passwd", 4, md5="a" * 32)
    assert upload.name == "passwd"
    with pytest.raises(InvalidInput, match="past the 4 bytes"):
        deposits.put_chunk(ALICE, upload.id, 0, b"12345")
    with pytest.raises(NotFound):  # another's draft is answered as unknown
        deposits.put_chunk(EVE, upload.id, 0, b"1234")
    _upload(deposits, ALICE, deposit.id, CAMELS_CSV)
    with pytest.raises(AlreadyExists):
        deposits.start_upload(ALICE, deposit.id, CAMELS_CSV.name, 5, md5="a" * 32)


def test_names_are_sanitised() -> None:
    assert safe_name("../My data/été 2023?.csv") == "été 2023_.csv"
    assert safe_name("C:\\Users\\x\\.hidden.tif") == "hidden.tif"
    assert safe_name("a<b>|c.txt") == "a_b_c.txt"


def test_the_csv_table_shows_200_rows_with_typed_columns() -> None:
    table = csv_table(CAMELS_CSV)
    assert table.delimiter == ";"
    assert [(c.name, c.type) for c in table.columns] == [
        ("dateBeg", "datetime"), ("dateEnd", "datetime"), ("latitude", "number"),
        ("longitude", "number"), ("altitude", "string"), ("value", "number"),
        ("qualityFlags", "string"),
    ]  # fmt: skip
    assert len(table.rows) == 200 and table.more
    assert table.rows[0][5] == "255.00"


def test_publishing_lists_the_files_in_the_record_and_freezes_the_deposit(
    deposits: Deposits,
) -> None:
    deposit = deposits.create(ALICE, "Verdun forest, Sentinel-2 red band")
    _upload(deposits, ALICE, deposit.id, COG)
    _upload(deposits, ALICE, deposit.id, CAMELS_CSV)
    with pytest.raises(DepositFrozen, match="a curator approves it"):
        deposits.publish(ALICE, deposit.id)
    _published(deposits, deposit.id)
    done = deposits.get(ANONYMOUS, deposit.id)  # published: its metadata is public
    assert done.state is DepositState.PUBLISHED
    record = deposits.record(ANONYMOUS, deposit.id)
    assert record.identifier == f"terrapole:local/{record.id}"
    sha = hashlib.sha256(COG.read_bytes()).hexdigest()
    assert f"sha256:{sha}" in " ".join(d.description for d in record.record.descriptions)
    assert set(record.record.formats) == {GEOTIFF, "text/csv"}
    assert "13168 bytes" in record.record.sizes
    parts = [r.related_identifier for r in record.record.related_identifiers]
    assert any(p.endswith(f"/deposits/{deposit.id}/files/{COG.name}") for p in parts)
    with pytest.raises(DepositFrozen, match="make a new version"):
        deposits.start_upload(ALICE, deposit.id, "more.csv", 3, md5="a" * 32)
    with pytest.raises(DepositFrozen):
        deposits.delete_file(ALICE, deposit.id, COG.name)
    assert deposits.map_source(ANONYMOUS, deposit.id, COG.name).exists()  # a COG already
    assert deposits.table(ANONYMOUS, deposit.id, CAMELS_CSV.name).columns[0].name == "dateBeg"


def test_files_change_only_while_the_record_is_a_draft(deposits: Deposits) -> None:
    deposit = deposits.create(ALICE, "Discharge")
    _upload(deposits, ALICE, deposit.id, CAMELS_CSV)
    record = deposits.record(ALICE, deposit.id).record
    deposits.describe(ALICE, deposit.id, replace(complete_record(), titles=record.titles))
    deposits.submit(ALICE, deposit.id)
    with pytest.raises(DepositFrozen, match="its record is submitted"):
        deposits.delete_file(ALICE, deposit.id, CAMELS_CSV.name)


def test_an_embargo_hides_the_files_until_its_date(deposits: Deposits, clock: Clock) -> None:
    until = date(2026, 6, 1)
    deposit = deposits.create(ALICE, "Embargoed", Access.of("embargoed", until.isoformat()))
    _upload(deposits, ALICE, deposit.id, CAMELS_CSV)
    _published(deposits, deposit.id)
    assert deposits.get(BOB, deposit.id).title  # the landing metadata stays visible
    with pytest.raises(Forbidden, match="embargoed until 2026-06-01"):
        deposits.local_file(BOB, deposit.id, CAMELS_CSV.name)
    with pytest.raises(Forbidden):
        deposits.table(ANONYMOUS, deposit.id, CAMELS_CSV.name)
    assert deposits.local_file(ALICE, deposit.id, CAMELS_CSV.name).exists()  # the owner reads
    clock.now = datetime(2026, 5, 31, 23, 59, tzinfo=UTC)
    assert not deposits.may_read_files(BOB, deposits.get(BOB, deposit.id))
    clock.now += timedelta(minutes=1)
    assert deposits.local_file(BOB, deposit.id, CAMELS_CSV.name).exists()
    assert deposits.table(ANONYMOUS, deposit.id, CAMELS_CSV.name).rows


def test_a_restricted_deposit_shows_its_files_to_the_groups_named(deposits: Deposits) -> None:
    deposit = deposits.create(ALICE, "Restricted", Access.of("restricted", groups=["hydro"]))
    assert deposit.access.mode is AccessMode.RESTRICTED
    _upload(deposits, ALICE, deposit.id, CAMELS_CSV)
    _published(deposits, deposit.id)
    assert deposits.local_file(BOB, deposit.id, CAMELS_CSV.name).exists()  # in 'hydro'
    for outsider in (EVE, ANONYMOUS):
        with pytest.raises(Forbidden, match="restricted"):
            deposits.local_file(outsider, deposit.id, CAMELS_CSV.name)
    assert deposits.get(EVE, deposit.id).title == "Restricted"  # the metadata is public
    admin = Principal(name="root", admin=True)
    assert deposits.local_file(admin, deposit.id, CAMELS_CSV.name).exists()
    # the rule is the access policy's: the key is restricted like a collection
    assert deposits.access.can_read(BOB, deposit.access_key)  # type: ignore[attr-defined]
    assert not deposits.access.can_read(EVE, deposit.access_key)  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="names the groups"):
        Access.of("restricted")
    with pytest.raises(InvalidInput, match="the date it ends"):
        Access.of("embargoed")
    with pytest.raises(InvalidInput, match="not one of"):
        Access.of("secret")


def test_drafts_are_private(deposits: Deposits) -> None:
    deposit = deposits.create(ALICE, "Draft")
    _upload(deposits, ALICE, deposit.id, CAMELS_CSV)
    for other in (EVE, ANONYMOUS):
        with pytest.raises(NotFound):
            deposits.get(other, deposit.id)
    assert deposits.get(CURATOR, deposit.id).files[0].name == CAMELS_CSV.name


def test_a_new_version_shares_the_files_and_links_the_records(
    deposits: Deposits, tmp_path: Path
) -> None:
    first = deposits.create(ALICE, "Verdun forest")
    _upload(deposits, ALICE, first.id, COG)
    _published(deposits, first.id)
    second = deposits.new_version(ALICE, first.id)
    assert second.state is DepositState.DRAFT and second.version_no == 2
    assert second.concept_id == first.concept_id and second.previous_id == first.id
    assert [(f.name, f.key) for f in second.files] == [
        (f.name, f.key) for f in deposits.get(ALICE, first.id).files
    ]
    _upload(deposits, ALICE, second.id, CAMELS_CSV)
    deposits.delete_file(ALICE, second.id, COG.name)  # the first version keeps its blob
    assert deposits.local_file(ANONYMOUS, first.id, COG.name).read_bytes() == COG.read_bytes()
    record = deposits.record(ALICE, second.id).record
    links = {(r.relation_type, r.related_identifier) for r in record.related_identifiers}
    first_record = deposits.get(ALICE, first.id).record_id
    assert ("IsNewVersionOf", f"http://127.0.0.1:8000/records/{first_record}") in links
    _published(deposits, second.id)
    assert [d.version_no for d in deposits.versions(first.id)] == [1, 2]
    blobs = {p.parent.name for p in (tmp_path / "assets" / "deposits" / "blobs").rglob("data")}
    assert len(blobs) == 2  # one blob per content, shared by both versions
    with pytest.raises(InvalidInput, match="publish it first"):
        deposits.new_version(ALICE, deposits.new_version(ALICE, second.id).id)


def _cli(*args: str) -> int:
    from terrapole.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_the_cli_creates_uploads_and_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path))
    record = tmp_path / "record.json"
    record.write_text(json.dumps(complete_record("Verdun forest").to_json()))
    assert _cli("deposits", "create", "--title", "Verdun", "--record", str(record)) == 0
    did = capsys.readouterr().out.strip()
    assert _cli("deposits", "upload", did, str(COG), str(CAMELS_CSV), "--chunk-mb", "1") == 0
    assert f"{COG.name}: 13168 bytes, {GEOTIFF}" in capsys.readouterr().err
    assert _cli("deposits", "publish", did) == 0
    assert capsys.readouterr().out.strip().startswith("terrapole:local/")
    assert _cli("deposits", "create", "--title", "x", "--access", "embargoed") == 2
    assert "embargo_until" in capsys.readouterr().err


def test_a_withdrawn_record_withdraws_the_deposit_and_its_files(deposits: Deposits) -> None:
    deposit = deposits.create(ALICE, "Verdun forest, withdrawn")
    _upload(deposits, ALICE, deposit.id, COG)
    _upload(deposits, ALICE, deposit.id, CAMELS_CSV)
    _published(deposits, deposit.id)
    assert deposits.local_file(ANONYMOUS, deposit.id, COG.name).exists()  # open until then
    deposits.book.withdraw(CURATOR, deposit.record_id, "the licence was not the producer's")

    seen = deposits.get(ANONYMOUS, deposit.id)  # the metadata stays, as a tombstone
    assert seen.state is DepositState.WITHDRAWN
    assert seen.withdrawn_reason == "the licence was not the producer's"
    for outsider in (ANONYMOUS, EVE, BOB):
        assert not deposits.may_read_files(outsider, seen)
        with pytest.raises(Forbidden, match="withdrawn .the licence was not the producer's."):
            deposits.local_file(outsider, deposit.id, COG.name)
        with pytest.raises(Forbidden, match="withdrawn"):
            deposits.map_source(outsider, deposit.id, COG.name)
        with pytest.raises(Forbidden, match="withdrawn"):
            deposits.table(outsider, deposit.id, CAMELS_CSV.name)
    assert deposits.local_file(ALICE, deposit.id, COG.name).exists()  # its owner
    assert deposits.table(CURATOR, deposit.id, CAMELS_CSV.name).rows  # and the curators
    listed = {d.id: d.state for d in deposits.find(ANONYMOUS, mine=False)}
    assert listed[deposit.id] is DepositState.WITHDRAWN
    assert [d.state for d in deposits.versions(deposit.id)] == [DepositState.WITHDRAWN]
    with pytest.raises(DepositFrozen, match="withdrawn: it gets no new version"):
        deposits.new_version(ALICE, deposit.id)
    with pytest.raises(DepositFrozen, match="is withdrawn already"):
        deposits.publish(ALICE, deposit.id)
