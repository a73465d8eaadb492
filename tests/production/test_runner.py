"""The runner: per-product windows run two at a time, and the report keeps their order."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from distributed import Client
from typing_extensions import override

from terrapole.config import Settings
from terrapole.production import runner
from terrapole.production.chain import Area, Context, Output
from terrapole.production.water_chain import WaterProduct
from terrapole.storage import LocalStorage

from .conftest import ingest_demo


class CountedWater(WaterProduct):
    """The water chain, counting how many windows build their outputs at the same time.

    The first two windows wait for each other before building (a barrier, not a sleep): two
    side by side whatever the machine's load, and a runner that ran one at a time would break
    the barrier and fail them.
    """

    lock = threading.Lock()
    running = 0
    most = 0
    entered = 0
    together = threading.Barrier(2, timeout=60)

    @override
    def produce(self, context: Context) -> Output:
        with self.lock:
            CountedWater.running += 1
            CountedWater.most = max(CountedWater.most, CountedWater.running)
            first_two = CountedWater.entered < 2
            CountedWater.entered += 1
        try:
            if first_two:
                self.together.wait()
            return super().produce(context)
        finally:
            with self.lock:
                CountedWater.running -= 1


def test_per_product_windows_run_side_by_side_in_order(tmp_path: Path, client: Client) -> None:
    settings = Settings(data_dir=tmp_path)
    store = ingest_demo(settings, ("theia",))
    storage = LocalStorage(settings.assets_dir)
    the_chain, area = CountedWater(), Area(tile="T31UFQ")
    first, last = date(2015, 1, 1), date(2019, 12, 31)
    planned = list(runner.windows(store, the_chain, area, first, last))
    assert len(planned) >= 3
    report = runner.run(the_chain, store, storage, client, area=area, start=first, end=last)
    assert CountedWater.most == runner.PRODUCTS_IN_FLIGHT == 2
    done = report.produced + report.empty + [name for name, _ in report.failed]
    expected = [the_chain.output_id(window, area) for window in planned]
    assert sorted(done) == sorted(expected) and report.failed == []
    assert report.produced == [name for name in expected if name in report.produced]
    assert store.count_items(the_chain.output_collection) == len(report.produced)
    # windows published side by side: the collection's extent still covers every output
    moments = sorted(store.get_item(the_chain.output_collection, name)["properties"]["datetime"]
                     for name in report.produced)  # fmt: skip
    collection = store.get_collection(the_chain.output_collection)
    start, end = collection["extent"]["temporal"]["interval"][0]
    assert start[:19] <= moments[0][:19] and end[:19] >= moments[-1][:19]
    store.close()
