"""Usage statistics (core): events tallied in memory and merged into the daily rollup in
batches, who resolved to user/entity/profile ids, jobs/orders/sign-ups read from their own
tables, aggregates by the allowed dimensions only, CSV; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from terrapole import db
from terrapole.access.accounts import Accounts
from terrapole.access.entities import Entities
from terrapole.access.tables import orders, usage_daily
from terrapole.access.usage import (
    Event,
    Period,
    UsageRecorder,
    aggregate,
    dimensions,
    period,
    prune,
    resolve,
    to_csv,
)
from terrapole.errors import InvalidInput
from terrapole.jobs.states import State
from terrapole.jobs.store import JobStore
from terrapole.jobs.usage import job_facts

from .conftest import Clock

DAY1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DAY2 = datetime(2026, 3, 3, 23, 59, tzinfo=UTC)
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
PASSWORD = "a long passphrase 42"


@pytest.fixture
def people(engine: sa.Engine, accounts: Accounts, clock: Clock) -> dict[str, str]:
    """A scientist member of a lab (token 'lab-token'), a token of nobody ('legacy')."""
    referent = accounts.create_verified("ref@lab.example", PASSWORD, "Referent")
    member = accounts.create_verified("member@lab.example", PASSWORD, "Member")
    entities = Entities(engine, clock=clock)
    lab = entities.create(referent, name="Lab", country="FR", kind="lab",
                          profile_name="french-scientist")  # fmt: skip
    entities.request(member, lab.id)
    entities.approve(referent, lab.id, member.id)
    token_name, _ = accounts.create_token(member.id, "lab-token")
    with engine.begin() as con:  # a token made before accounts existed
        con.execute(sa.text("INSERT INTO tp_api_tokens (name, token_hash, groups, admin, created) "
                            "VALUES ('legacy', 'h', '[]', false, :now)"), {"now": DAY1})  # fmt: skip
    return {"token": token_name, "member": member.id, "lab": lab.id, "referent": referent.id}


def test_resolve_gives_ids_of_user_entity_and_profile(engine, people) -> None:
    session = f"user:{people['member']}"  # how a portal session's principal is named
    who = resolve(engine, [people["token"], "legacy", "", session])
    assert who[session] == who[people["token"]]
    assert who[people["token"]].user_id == people["member"]
    assert who[people["token"]].entity_id == people["lab"]
    assert who[people["token"]].profile == "french-scientist"
    assert who["legacy"].user_id == "token:legacy" and who["legacy"].entity_id == ""
    assert who[""].user_id == ""


def test_events_are_tallied_per_day_and_merged_into_one_row_per_key(engine, people) -> None:
    recorder = UsageRecorder(engine)
    for _ in range(50):
        recorder.record(Event("search", "stac", people["token"], "s2", at=DAY1))
    recorder.record(Event("search", "stac", "", "s2", at=DAY1, failed=True))
    recorder.record(Event("tile", "xyz", "legacy", "s2", at=DAY2))
    assert recorder.flush() == 3
    for _ in range(25):  # a later batch adds into the same rollup row
        recorder.record(Event("search", "stac", people["token"], "s2", at=DAY1))
    assert recorder.flush() == 1
    with db.reading(engine) as con:
        assert con.execute(sa.select(sa.func.count()).select_from(usage_daily)).scalar() == 3
    rows = {(r.group["day"], r.group["kind"]): r for r in aggregate(engine, MARCH, ["day"])}
    search = rows[("2026-03-02", "search")]
    assert (search.tally.count, search.tally.failed, search.users) == (76, 1, 1)
    assert search.success_rate == pytest.approx(75 / 76, abs=1e-4)
    assert rows[("2026-03-03", "tile")].tally.count == 1  # 23:59 UTC is still the 3rd
    by_profile = aggregate(engine, MARCH, ["profile"])
    assert {(r.group["kind"], r.group["profile"]): r.tally.count for r in by_profile
            if r.group["kind"] != "signup"} == {
        ("search", ""): 1, ("search", "french-scientist"): 75, ("tile", ""): 1,
    }  # fmt: skip


def test_downloads_carry_bytes_files_and_the_footprint_km2(engine, people) -> None:
    def area(collection: str, item: str) -> float | None:
        if item == "gone":
            raise LookupError(item)  # an item deleted since: no km², the rest is counted
        return 12.5

    recorder = UsageRecorder(engine, area=area)
    for item in ("a", "a", "gone"):
        recorder.record(Event("download", "assets", people["token"], "s2", item, files=1,
                              bytes=1000, at=DAY1))  # fmt: skip
    recorder.flush()
    (row,) = [r for r in aggregate(engine, MARCH, ["entity"]) if r.group["kind"] == "download"]
    assert row.group["entity"] == people["lab"]
    assert (row.tally.files, row.tally.bytes, row.tally.km2) == (3, 3000, 25.0)


def test_a_failed_write_keeps_the_tallies_for_the_next_flush(tmp_path) -> None:
    engine = db.create_engine(f"sqlite:///{tmp_path / 'bare.db'}")  # no tables yet
    recorder = UsageRecorder(engine)
    recorder.record(Event("search", "stac", "", "s2", at=DAY1))
    assert recorder.flush() == 0  # logged, not raised
    db.metadata.create_all(engine)
    recorder.record(Event("search", "stac", "", "s2", at=DAY1))
    assert recorder.flush() == 1
    (row,) = [r for r in aggregate(engine, MARCH, ["day"]) if r.group["kind"] == "search"]
    assert row.tally.count == 2
    engine.dispose()


def test_close_writes_what_is_pending(engine) -> None:
    recorder = UsageRecorder(engine, interval_s=3600)
    recorder.record(Event("tile", "wms", "", "s2", at=DAY1))
    recorder.close()
    assert [r.tally.count for r in aggregate(engine, MARCH, ["day"])] == [1]


def test_jobs_orders_and_signups_are_read_from_their_own_tables(
    engine, database_url, people
) -> None:
    jobs = JobStore(database_url)
    try:
        for state, cpu in ((State.SUCCESSFUL, 10.0), (State.SUCCESSFUL, 5.0), (State.FAILED, 1.0)):
            job = jobs.submit("ndvi", people["token"], {}, 1.0)
            jobs.start(job.id)
            jobs.finish(job.id, state, cpu_s=cpu)
        jobs.submit("ndvi", "legacy", {}, 1.0)  # still queued: neither success nor failure
    finally:
        jobs.close()
    with engine.begin() as con:
        for n, state in enumerate(("submitted", "refused")):
            con.execute(orders.insert().values(
                id=f"o{n}", kind="archive", state=state, entity_id=people["lab"],
                owner=people["member"], profile="french-scientist", family="pleiades",
                period="2026Q1", request={}, aoi=None, km2=40.0, created=DAY1, updated=DAY1,
            ))  # fmt: skip
    today = datetime.now(UTC).date()
    span = Period(min(today, MARCH.start), max(today, MARCH.end))
    rows = aggregate(engine, span, ["service", "entity"], extra=job_facts(engine, span))
    found = {(r.group["kind"], r.group["service"], r.group["entity"]): r for r in rows}
    ndvi = found[("job", "ndvi", people["lab"])]
    assert (ndvi.tally.count, ndvi.tally.succeeded, ndvi.tally.failed) == (3, 2, 1)
    assert ndvi.tally.cpu_s == 16.0 and ndvi.success_rate == pytest.approx(2 / 3, abs=1e-4)
    assert found[("job", "ndvi", "")].tally.count == 1
    order = found[("order", "archive", people["lab"])]
    assert (order.tally.count, order.tally.failed, order.tally.km2) == (2, 1, 80.0)
    signups = found[("signup", "accounts", "")]
    assert (signups.tally.count, signups.users) == (2, 2)


def test_aggregates_are_refused_per_user_and_for_bad_periods() -> None:
    with pytest.raises(InvalidInput, match="'user' is not one of"):
        dimensions("day,user")
    assert dimensions("collection") == ("kind", "collection")
    with pytest.raises(InvalidInput, match="not a date"):
        period("2026-13-01", None)
    with pytest.raises(InvalidInput, match="after end"):
        period("2026-03-05", "2026-03-01")
    with pytest.raises(InvalidInput, match="last supported day"):
        period("9999-12-30", "9999-12-31")
    with pytest.raises(InvalidInput, match="at most"):
        period("2000-01-01", "2026-01-01")
    assert period(None, None, today=date(2026, 3, 31)) == Period(
        date(2026, 3, 2), date(2026, 3, 31)
    )


def test_csv_has_the_dimensions_then_the_sums(engine) -> None:
    recorder = UsageRecorder(engine)
    recorder.record(Event("download", "zip", "", "s2", files=1, bytes=2048, at=DAY1))
    recorder.flush()
    by = dimensions("day,collection")
    lines = list(csv.DictReader(io.StringIO(to_csv(aggregate(engine, MARCH, by), by))))
    assert lines == [{"day": "2026-03-02", "kind": "download", "collection": "s2", "count": "1",
                      "users": "0", "succeeded": "1", "failed": "0", "success_rate": "1.0",
                      "files": "1", "bytes": "2048", "km2": "0.0", "cpu_s": "0.0"}]  # fmt: skip


def test_prune_drops_the_days_past_retention(engine) -> None:
    recorder = UsageRecorder(engine)
    recorder.record(Event("search", "stac", at=DAY1))
    recorder.record(Event("search", "stac", at=DAY2))
    recorder.flush()
    assert prune(engine, date(2026, 3, 3)) == 1
    assert [r.group["day"] for r in aggregate(engine, MARCH, ["day"])] == ["2026-03-03"]
