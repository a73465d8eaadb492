"""What ``terrapole demo`` publishes on the FAIR side: a record per public collection, one
production output and long-tail deposits, through the same core calls as users make them.

The demo's admin (made by :func:`terrapole.access.demo_accounts.seed`) acts as owner and
curator: each record is described, completed with true facts (publisher "terrapole demo",
the collection's producer, its licence), submitted, approved and published. A second run finds
what the first made (by the record's source, the deposit's title) and adds nothing; a run cut
short is taken up where it stopped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from terrapole.access.accounts import Accounts
from terrapole.access.demo_accounts import ADMIN, principal_of
from terrapole.access.policy import ANONYMOUS, Principal
from terrapole.access.service import AccessService
from terrapole.catalog.model import CollectionQuery, SearchQuery
from terrapole.catalog.store import ReadStore
from terrapole.config import Settings
from terrapole.errors import NotFound
from terrapole.fair.checks import spdx_id
from terrapole.fair.deposits import Deposit, Deposits, DepositState
from terrapole.fair.describe import collection_record
from terrapole.fair.model import (
    Creator,
    Date,
    Description,
    Extras,
    GeoBox,
    GeoLocation,
    GeoPoint,
    Publisher,
    Record,
    RelatedIdentifier,
    Rights,
    Source,
    SourceKind,
    Subject,
    TemporalExtent,
    Title,
    Types,
)
from terrapole.fair.record_workflow import RecordState
from terrapole.fair.records import RecordBook, StoredRecord
from terrapole.storage import Storage

PUBLISHER = Publisher("terrapole demo")
PLATFORM = Creator("terrapole demo", "Organizational")
"""Who made what the demo's production chains made: the platform that ran them."""
OUTPUT_COLLECTION = "theia-l3a-wasp"
"""The production output the demo publishes: the newest WASP monthly synthesis."""
CHUNK_BYTES = 64 * 1024
"""The chunk size of the demo's uploads (small, so that a file takes several chunks)."""
COG = "image/tiff; application=geotiff; profile=cloud-optimized"


@dataclass(frozen=True)
class DemoDeposit:
    """A long-tail deposit of the demo: a real file of the bundle and what is true of it."""

    path: str  # relative to the demo folder
    title: str
    abstract: str
    creators: tuple[Creator, ...]
    licence: str  # an SPDX id
    keywords: tuple[str, ...]
    period: tuple[str, str]
    box: tuple[float, float, float, float] | None = None  # west, south, east, north
    source_url: str | None = None  # where the data came from (IsDerivedFrom)
    place: str | None = None


DEPOSITS = (
    DemoDeposit(
        "insitu/pastas_nl/rain_260.csv",
        "Daily precipitation at KNMI station 260 De Bilt, 1980-2020",
        "Daily precipitation sums (RH, mm/day, converted by pastas from KNMI's 0.1 mm) at the "
        "KNMI weather station 260 De Bilt (52.10 N, 5.18 E), 1980-01-02 to 2020-03-28, "
        "14 697 days: the example data of the pastas groundwater-modelling package, copied "
        "unchanged.",
        (Creator("Royal Netherlands Meteorological Institute (KNMI)", "Organizational"),),
        "CC-BY-4.0",
        ("precipitation", "meteorology", "Netherlands"),
        ("1980-01-02", "2020-03-28"),
        (5.18, 52.10, 5.18, 52.10),
        "https://github.com/pastas/pastas/tree/f4ee486d62969b9a1e4c719afe339b8fa1201712/doc/examples/data",
        "De Bilt, Netherlands",
    ),
    DemoDeposit(
        "products/theia/SENTINEL2B_20190915-104723-867_L2A_T31UFQ_C_V2-2/"
        "SENTINEL2B_20190915-104723-867_L2A_T31UFQ_C_V2-2_FRE_B4.tif",
        "Sentinel-2B surface reflectance, red band (B4), tile T31UFQ, 15 September 2019 (crop)",
        "An 80 x 80 pixel crop at 10 m (EPSG:32631) of the red band (B4) flat reflectance "
        "environment-corrected (FRE) of the THEIA MUSCATE Level-2A product "
        "SENTINEL2B_20190915-104723-867_L2A_T31UFQ_C_V2-2 (MAJA), int16 reflectance x 10000, "
        "nodata -10000. Contains modified Copernicus Sentinel data, processed by CNES/THEIA.",
        (Creator("CNES / THEIA", "Organizational"),),
        "etalab-2.0",
        ("Sentinel-2", "surface reflectance", "THEIA"),
        ("2019-09-15", "2019-09-15"),
        (5.3446556, 49.2750273, 5.3559872, 49.282441),
        "https://github.com/oussema286/fordead_package/tree/e16e401a95299a92c3b785b23f8b6f0baa24bf53/fordead/tests/Data/SENTINEL/ZoneTest",
        "Sentinel-2 tile T31UFQ, Lorraine, France",
    ),
)


class DemoServices(Protocol):
    """What :func:`publish_demo` uses of the service container (``terrapole.services``)."""

    @property
    def store(self) -> ReadStore:
        """The catalogue."""
        ...

    access: AccessService
    accounts: Accounts
    records: RecordBook
    storage: Storage
    settings: Settings


@dataclass
class DemoReport:
    """What a run published (ids of records, new or found) and what it left out, and why."""

    published: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    deposits: list[str] = field(default_factory=list)


def publish_demo(services: DemoServices, demo_dir: Path) -> DemoReport:
    """Publish the demo's records and deposits as the demo's admin (see the module doc)."""
    curator = principal_of(services.access, services.accounts.by_email(ADMIN[0]))
    book = services.records
    report = DemoReport()
    year = str(book.clock().year)
    collections = _public_collections(services)
    for collection in collections:
        reason = _unpublishable(collection)
        if reason:
            report.skipped[str(collection["id"])] = reason
            continue
        record = _collection_record(services.store, collection, book.base_url, year)
        _settle(book, curator, record, report)
    output = _newest_item(services.store, OUTPUT_COLLECTION)
    by_id = {str(c["id"]): c for c in collections}
    if output is not None and OUTPUT_COLLECTION in by_id:
        record = output_record(output, by_id[OUTPUT_COLLECTION], book.base_url, year=year)
        _settle(book, curator, record, report)
    deposits = Deposits(book, services.storage, services.access,
                        max_file_bytes=services.settings.deposit_max_file_bytes)  # fmt: skip
    for spec in DEPOSITS:
        deposit = _deposit(deposits, curator, spec, demo_dir, year, report)
        report.deposits.append(deposit.id)
    return report


# -- collections ------------------------------------------------------------------------------


def _public_collections(services: DemoServices) -> list[Mapping[str, Any]]:
    hidden = services.access.hidden_for(ANONYMOUS)
    docs, _ = services.store.list_collections(CollectionQuery(limit=10_000))
    return sorted((d for d in docs if d["id"] not in hidden), key=lambda d: str(d["id"]))


def _unpublishable(collection: Mapping[str, Any]) -> str | None:
    licence = str(collection.get("license") or "")
    if spdx_id(licence) is None:
        return f"its licence {licence!r} is not an open licence with an SPDX id"
    if not collection.get("description"):
        return "it has no description to be the record's abstract"
    return None


def _collection_record(
    store: ReadStore, collection: Mapping[str, Any], base_url: str, year: str
) -> Record:
    """The draft of :func:`describe.collection_record` completed: publisher, year, creators
    (the producers among the collection's providers, else the platform when the demo's
    chains made its items, the collection they read as the source)."""
    draft = collection_record(collection, base_url=base_url)
    producers = tuple(
        Creator(str(p["name"]), "Organizational")
        for p in collection.get("providers") or ()
        if "producer" in (p.get("roles") or ()) and p.get("name")
    )
    links: tuple[RelatedIdentifier, ...] = ()
    if not producers:
        sample = _newest_item(store, str(collection["id"]))
        if sample is not None and sample["properties"].get("terrapole:chain"):
            producers = (PLATFORM,)
            inputs = sorted({c for c in _input_collections(sample)})
            links = tuple(
                RelatedIdentifier(f"{base_url}/stac/collections/{c}", "URL", "IsDerivedFrom",
                                  "Dataset")
                for c in inputs
            )  # fmt: skip
    return replace(
        draft, creators=producers, publisher=PUBLISHER, publication_year=year
    ).with_related(*links)


def _input_collections(item: Mapping[str, Any]) -> Iterator[str]:
    for link in item.get("links") or ():
        href = str(link.get("href") or "")
        if link.get("rel") == "derived_from" and "/collections/" in href:
            yield href.split("/collections/", 1)[1].split("/", 1)[0]


def _newest_item(store: ReadStore, collection_id: str) -> Mapping[str, Any] | None:
    try:
        store.get_collection(collection_id)
    except NotFound:
        return None
    items = store.search(SearchQuery(collections=(collection_id,), limit=10_000)).items
    return max(items, key=lambda i: str(i["id"]), default=None)


# -- the production output --------------------------------------------------------------------


def output_record(
    item: Mapping[str, Any], collection: Mapping[str, Any], base_url: str, *, year: str
) -> Record:
    """A record of one item a production chain made: the item's STAC URL is what it
    describes, it is part of its collection, and derives from each input it names."""
    base = base_url.rstrip("/")
    cid, iid = str(collection["id"]), str(item["id"])
    props = item.get("properties") or {}
    here = f"{base}/stac/collections/{cid}"
    related = [
        RelatedIdentifier(f"{here}/items/{iid}", "URL", "IsVariantFormOf", "Dataset"),
        RelatedIdentifier(here, "URL", "IsPartOf", "Collection"),
    ]
    for link in item.get("links") or ():
        href = str(link.get("href") or "")
        if link.get("rel") == "derived_from" and href:
            absolute = href if "://" in href else f"{base}/{href.lstrip('/')}"
            related.append(RelatedIdentifier(absolute, "URL", "IsDerivedFrom", "Dataset"))
    start = str(props.get("start_datetime") or props.get("datetime") or "")
    end = str(props.get("end_datetime") or start)
    west, south, east, north = (float(v) for v in item["bbox"][:4])
    licence = str(collection["license"])
    return Record(
        titles=(Title(str(props.get("title") or iid)),),
        creators=(PLATFORM,),
        publisher=PUBLISHER,
        publication_year=year,
        types=Types("Dataset", "Processing output"),
        subjects=(Subject(str(props.get("terrapole:chain") or cid)),),
        dates=(Date(f"{start[:10]}/{end[:10]}", "Collected"),) if start else (),
        formats=(COG,),
        rights_list=(
            Rights(
                licence,
                rights_identifier=licence,
                rights_identifier_scheme="SPDX",
                scheme_uri="https://spdx.org/licenses/",
            ),
        ),  # fmt: skip
        descriptions=(Description(f"{props.get('title') or iid}: {collection['description']}"),),
        geo_locations=(GeoLocation(geo_location_box=GeoBox(west, east, south, north)),),
        related_identifiers=tuple(related),
        extras=Extras(
            lineage=str(props.get("processing:lineage") or ""),
            temporal_extent=TemporalExtent(start, end) if start else None,
            spatial_extent=(west, south, east, north),
            source=Source(SourceKind.JOB_OUTPUT, f"{cid}/{iid}"),
        ),
    )


# -- the workflow -----------------------------------------------------------------------------


def _settle(book: RecordBook, curator: Principal, record: Record, report: DemoReport) -> None:
    """Publish ``record`` unless a record of its source exists: that one is taken up."""
    source = record.extras.source
    assert source is not None
    found = book.find(curator, source=source, limit=1)
    if found:
        stored = found[0]
    else:
        stored = book.create(curator, record)
        report.added.append(stored.id)
    if stored.state is RecordState.DRAFT:
        stored = book.update(curator, stored.id, record)
    report.published.append(_publish(book, curator, stored).id)


def _publish(book: RecordBook, curator: Principal, stored: StoredRecord) -> StoredRecord:
    """Move a record on to published: submit, approve, publish (each step it still needs)."""
    if stored.state is RecordState.DRAFT:
        stored = book.submit(curator, stored.id)
    if stored.state is RecordState.SUBMITTED:
        stored = book.approve(curator, stored.id, "published by the demo")
    if stored.state is RecordState.APPROVED:
        stored = book.publish(curator, stored.id)
    return stored


# -- deposits ---------------------------------------------------------------------------------


def deposit_description(spec: DemoDeposit, year: str) -> Record:
    """The record of a demo deposit (the deposit adds its files, sizes and checksums)."""
    related: tuple[RelatedIdentifier, ...] = ()
    if spec.source_url:
        related = (RelatedIdentifier(spec.source_url, "URL", "IsDerivedFrom", "Dataset"),)
    places: tuple[GeoLocation, ...] = ()
    if spec.box is not None:
        west, south, east, north = spec.box
        if (west, south) == (east, north):  # a station
            places = (GeoLocation(spec.place, geo_location_point=GeoPoint(west, south)),)
        else:
            box = GeoBox(west, east, south, north)
            places = (GeoLocation(spec.place, geo_location_box=box),)
    return Record(
        titles=(Title(spec.title),),
        creators=spec.creators,
        publisher=PUBLISHER,
        publication_year=year,
        types=Types("Dataset", "Deposit"),
        subjects=tuple(Subject(k) for k in spec.keywords),
        dates=(Date(f"{spec.period[0]}/{spec.period[1]}", "Collected"),),
        rights_list=(
            Rights(
                spec.licence,
                rights_identifier=spec.licence,
                rights_identifier_scheme="SPDX",
                scheme_uri="https://spdx.org/licenses/",
            ),
        ),  # fmt: skip
        descriptions=(Description(spec.abstract),),
        geo_locations=places,
        related_identifiers=related,
        extras=Extras(temporal_extent=TemporalExtent(*spec.period), spatial_extent=spec.box),
    )


def _deposit(
    deposits: Deposits,
    curator: Principal,
    spec: DemoDeposit,
    demo_dir: Path,
    year: str,
    report: DemoReport,
) -> Deposit:
    """The deposit of ``spec``: found by its title, else created; its file uploaded in chunks
    if missing; described, submitted, approved and published."""
    mine = [d for d in deposits.find(curator, limit=1000) if d.title == spec.title]
    deposit = mine[0] if mine else deposits.create(curator, spec.title)
    if deposit.state is DepositState.PUBLISHED:
        report.published.append(deposit.record_id)
        return deposit
    path = demo_dir / spec.path
    if not any(f.name == path.name for f in deposit.files):
        upload_in_chunks(deposits, curator, deposit.id, path)
    stored = deposits.record(curator, deposit.id)
    if stored.state is RecordState.DRAFT:
        deposits.describe(curator, deposit.id, deposit_description(spec, year))
        stored = deposits.submit(curator, deposit.id)
    if stored.state is RecordState.SUBMITTED:
        deposits.book.approve(curator, stored.id, "published by the demo")
    published = deposits.publish(curator, deposit.id)
    report.published.append(published.record_id)
    if not mine:
        report.added.append(published.record_id)
    return published


def upload_in_chunks(deposits: Deposits, principal: Principal, deposit_id: str, path: Path) -> None:
    """Upload a file as a client of the API does: declared size and SHA-256, then chunks."""
    data = path.read_bytes()
    upload = deposits.start_upload(principal, deposit_id, path.name, len(data),
                                   sha256=hashlib.sha256(data).hexdigest())  # fmt: skip
    for offset in range(0, len(data), CHUNK_BYTES):
        deposits.put_chunk(principal, upload.id, offset, data[offset : offset + CHUNK_BYTES])
    deposits.complete(principal, upload.id)


def landing_pages(book: RecordBook, ids: Sequence[str]) -> list[str]:
    """The landing page URLs of records."""
    return [f"{book.base_url}/records/{rid}" for rid in ids]


__all__ = ["DEPOSITS", "DemoDeposit", "DemoReport", "output_record", "publish_demo"]
