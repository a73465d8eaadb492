"""Throughput of the km² quotas ledger under concurrent orders, on SQLite and PostgreSQL.

Each debit locks its quota (``SELECT ... FOR UPDATE`` of the balance row on PostgreSQL; on
SQLite every write transaction begins ``BEGIN IMMEDIATE``, one writer at a time), sums the
quota's ledger and writes the entry. For each thread count N, for ``--seconds`` each:

1. raw debits of 1 km² (``Ledger.debit``): N threads on ONE quota (they queue on its lock),
   and the reference, N threads on one quota EACH (same work, nothing shared but the
   database); debits/s, p50/p95 latency and the ratio contended / reference. The allowance is
   large enough that nothing is refused, so both sides do the same work.
2. spending: N threads debit 7 km² of a fresh 5 500 km² quota (the seed's French scientist
   Pléiades allowance) until each was refused once; accepted and refused debits, and the
   ledger's debited km², which must never exceed the allowance.
3. orders through the real path: N users of one entity draft an archive order
   (``OrderBook.draft_archive``, geodesic km²) and submit it (``OrderBook.submit``: the debit,
   the order's state and its history in one transaction) on the entity's 5 500 km² quota,
   without accepting any price: once the quota is spent, submissions are refused. Orders/s
   (accepted and refused), p50/p95 of draft + submit, and the ledger checked against the
   allowance and against the accepted orders.

PostgreSQL is a throw-away local server (the tests' pgserver: initdb/pg_ctl, fsync off); its
engine's pool holds a connection per thread, so threads wait on the quota's lock, not on the
pool. SQLite is a file (write-ahead log) with terrapole's own engine.

    python benchmarks/ledger.py --seconds 3 --threads 1,2,4,8,16 --database both
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pgserver import postgres_server  # noqa: E402

from terrapole import db  # noqa: E402
from terrapole.access.order_workflow import Actor  # noqa: E402
from terrapole.access.orders import OrderBook  # noqa: E402
from terrapole.access.pricing import Family, PriceTable  # noqa: E402
from terrapole.access.profiles import Profile  # noqa: E402
from terrapole.access.quotas import Ledger, Quota, QuotaExceeded  # noqa: E402
from terrapole.access.tables import orders  # noqa: E402

SCIENTIST, PLEIADES = Profile.FRENCH_SCIENTIST, Family.PLEIADES
SEED_PERIOD = "2026-Q4"  # the seed's allowance: 5 500 km² for French scientists
OPEN_PERIOD = "2030-Q1"  # revised to an allowance no run spends (throughput without refusals)
ORDERED_ON = datetime(2026, 11, 2, tzinfo=UTC)  # orders draw on SEED_PERIOD
TABLE = PriceTable.from_dict(
    {"quarterly": {OPEN_PERIOD: {SCIENTIST.value: {PLEIADES.value: 1e12}}}}
)
# an archive product's footprint near Toulouse: 0.07° x 0.07°, about 44 km² (125 fit in 5 500)
FOOTPRINT = {
    "type": "Polygon",
    "coordinates": [[[1.40, 43.60], [1.47, 43.60], [1.47, 43.67], [1.40, 43.67], [1.40, 43.60]]],
}


@dataclass
class Run:
    """What the threads of one run did: latencies (s) of the operations that went through and
    of those refused, and the wall time."""

    accepted: list[float] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)
    wall: float = 0.0

    @property
    def rate(self) -> float:
        """Operations per second, accepted or refused."""
        return (len(self.accepted) + len(self.refused)) / self.wall

    def percentile(self, q: int) -> float:
        """The ``q``-th percentile of all latencies, in ms."""
        return _ms(self.accepted + self.refused, q)


def _ms(latencies: list[float], q: int) -> float:
    """The ``q``-th percentile of ``latencies`` (s), in ms (nan when there are none)."""
    if len(latencies) < 2:
        return latencies[0] * 1e3 if latencies else float("nan")
    return statistics.quantiles(latencies, n=100)[q - 1] * 1e3


Operation = Callable[[int, int], bool]
"""``(thread, n) -> accepted``: one operation of a thread; False when the ledger refused it."""


def _race(threads: int, operation: Operation, *, seconds: float | None) -> Run:
    """Run ``operation`` in ``threads`` threads started together, each until ``seconds`` pass
    (or, with ``seconds`` None, until its first refusal)."""
    start = threading.Barrier(threads + 1)
    run, lock = Run(), threading.Lock()
    deadline = [0.0]

    def work(thread: int) -> None:
        accepted: list[float] = []
        refused: list[float] = []
        start.wait()
        n = 0
        while seconds is None or time.perf_counter() < deadline[0]:
            began = time.perf_counter()
            ok = operation(thread, n)
            (accepted if ok else refused).append(time.perf_counter() - began)
            n += 1
            if seconds is None and not ok:
                break
        with lock:
            run.accepted += accepted
            run.refused += refused

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    deadline[0] = began + (seconds or 0.0)
    start.wait()
    for worker in workers:
        worker.join()
    run.wall = time.perf_counter() - began
    return run


def _debits(ledger: Ledger, quota_of: Callable[[int], Quota], km2: float) -> Operation:
    def debit(thread: int, n: int) -> bool:
        try:
            ledger.debit(quota_of(thread), order_id=f"t{thread}-{n}", km2=km2,
                         actor=f"u{thread}", reason="benchmark")  # fmt: skip
        except QuotaExceeded:
            return False
        return True

    return debit


def _same(quota: Quota) -> Callable[[int], Quota]:
    """Every thread debits ``quota``."""
    return lambda thread: quota


def _own(prefix: str, period: str) -> Callable[[int], Quota]:
    """Each thread debits a quota of its own entity."""
    return lambda thread: Quota(f"{prefix}-{thread}", SCIENTIST, PLEIADES, period)


def _orders(book: OrderBook, entity: str) -> Operation:
    def order(thread: int, n: int) -> bool:
        actor = Actor(f"user-{thread}")
        draft = book.draft_archive(actor, entity_id=entity, profile=SCIENTIST, family=PLEIADES,
                                   collection_id="pleiades-archive",
                                   footprints={f"item-{thread}-{n}": FOOTPRINT},
                                   when=ORDERED_ON)  # fmt: skip
        try:
            book.submit(actor, draft.id)
        except QuotaExceeded:
            return False
        return True

    return order


def _check(ledger: Ledger, quota: Quota) -> tuple[float, float, bool]:
    """The quota's debited km², its allowance, and whether the debits stay within it."""
    balance = ledger.balance(quota)
    return balance.debited_km2, balance.allowance_km2, balance.debited_km2 <= balance.allowance_km2


def _ordered_km2(engine: sa.Engine, entity: str) -> float:
    """The quota km² the entity's submitted orders say they took."""
    query = sa.select(sa.func.coalesce(sa.func.sum(orders.c.quota_km2), 0.0)).where(
        orders.c.entity_id == entity, orders.c.state == "submitted"
    )
    with engine.connect() as con:
        return float(con.execute(query).scalar_one())


def bench(name: str, engine: sa.Engine, threads: list[int], seconds: float) -> bool:
    """Print the three tables for one database; False if any ledger overdrew its allowance."""
    ledger, book = Ledger(engine, TABLE), OrderBook(engine, TABLE)
    sound = True
    print(f"\n== {name}")
    print(f"raw debits of 1 km², {seconds:g} s per run")
    print(f"{'threads':>7} | {'one quota (contended)':^28} | {'one quota per thread':^28} | ratio")
    print(f"{'':>7} | {'debits/s':>10} {'p50 ms':>8} {'p95 ms':>8} | "
          f"{'debits/s':>10} {'p50 ms':>8} {'p95 ms':>8} | rate")  # fmt: skip
    for n in threads:
        hot = Quota(f"hot-{n}", SCIENTIST, PLEIADES, OPEN_PERIOD)
        contended = _race(n, _debits(ledger, _same(hot), 1.0), seconds=seconds)
        apart = _race(n, _debits(ledger, _own(f"free-{n}", OPEN_PERIOD), 1.0), seconds=seconds)
        assert not contended.refused and not apart.refused
        print(f"{n:>7} | {contended.rate:>10,.0f} {contended.percentile(50):>8.2f} "
              f"{contended.percentile(95):>8.2f} | {apart.rate:>10,.0f} "
              f"{apart.percentile(50):>8.2f} {apart.percentile(95):>8.2f} | "
              f"{contended.rate / apart.rate:.2f}")  # fmt: skip

    print("\nspending a 5 500 km² quota by 7 km² debits, every thread until refused")
    print(f"{'threads':>7} | {'accepted':>8} {'refused':>8} | {'debited km²':>11} "
          f"{'allowance':>9} | within")  # fmt: skip
    for n in threads:
        quota = Quota(f"spend-{n}", SCIENTIST, PLEIADES, SEED_PERIOD)
        run = _race(n, _debits(ledger, _same(quota), 7.0), seconds=None)
        debited, allowance, within = _check(ledger, quota)
        exact = len(run.accepted) == 785  # 785 x 7 = 5 495 ≤ 5 500 < 786 x 7: none lost either
        sound &= within and exact
        print(f"{n:>7} | {len(run.accepted):>8} {len(run.refused):>8} | {debited:>11,.1f} "
              f"{allowance:>9,.0f} | {'yes' if within and exact else 'NO'}")  # fmt: skip

    km2 = OrderBook(engine, TABLE).draft_archive(
        Actor("probe"), entity_id="probe", profile=SCIENTIST, family=PLEIADES,
        collection_id="pleiades-archive", footprints={"probe": FOOTPRINT}, when=ORDERED_ON,
    ).km2  # fmt: skip
    print(
        f"\norders (draft + submit through OrderBook) of {km2:.1f} km² each on one entity's "
        f"5 500 km² quota, {seconds:g} s per run; refused once the quota is spent"
    )
    print(f"{'threads':>7} | {'orders/s':>8} | {'accepted':>8} {'p50 ms':>8} {'p95 ms':>8} | "
          f"{'refused':>8} {'p50 ms':>8} {'p95 ms':>8} | {'debited km²':>11} {'in orders':>10} "
          f"| within")  # fmt: skip
    for n in threads:
        entity = f"lab-{n}"
        run = _race(n, _orders(book, entity), seconds=seconds)
        quota = Quota(entity, SCIENTIST, PLEIADES, SEED_PERIOD)
        debited, _, within = _check(ledger, quota)
        ordered = _ordered_km2(engine, entity)
        agree = abs(ordered - debited) < 1e-6
        sound &= within and agree
        print(f"{n:>7} | {run.rate:>8,.0f} | {len(run.accepted):>8} "
              f"{_ms(run.accepted, 50):>8.2f} {_ms(run.accepted, 95):>8.2f} | "
              f"{len(run.refused):>8} {_ms(run.refused, 50):>8.2f} {_ms(run.refused, 95):>8.2f} | "
              f"{debited:>11,.1f} {ordered:>10,.1f} | "
              f"{'yes' if within and agree else 'NO'}")  # fmt: skip
    return sound


@contextmanager
def _sqlite() -> Iterator[sa.Engine]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.open_engine(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def _postgresql(threads: int) -> Iterator[sa.Engine]:
    with postgres_server() as dsn:
        db.open_engine(dsn).dispose()  # migrated
        # terrapole's PostgreSQL engine (pre-ping), with a connection per thread in the pool
        engine = sa.create_engine(db.sqlalchemy_url(dsn), pool_pre_ping=True,
                                  pool_size=threads, max_overflow=0)  # fmt: skip
        try:
            yield engine
        finally:
            engine.dispose()


def main() -> int:
    """Print the figures; exit 1 if a ledger ever went beyond its allowance."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each timed run")
    parser.add_argument("--threads", default="1,2,4,8,16", help="thread counts, comma-separated")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    threads = [int(n) for n in args.threads.split(",")]
    if args.seconds <= 0 or not threads or min(threads) < 1:
        parser.error("--seconds must be > 0 and --threads positive integers")
    sound = True
    with ExitStack() as stack:
        if args.database in ("sqlite", "both"):
            engine = stack.enter_context(_sqlite())
            sound &= bench("SQLite (file, WAL, writers BEGIN IMMEDIATE)", engine, threads,
                           args.seconds)  # fmt: skip
        if args.database in ("postgresql", "both"):
            engine = stack.enter_context(_postgresql(max(threads)))
            sound &= bench("PostgreSQL (local, fsync off, SELECT ... FOR UPDATE)", engine,
                           threads, args.seconds)  # fmt: skip
    print("\nledger within every allowance: " + ("yes" if sound else "NO"))
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main())
