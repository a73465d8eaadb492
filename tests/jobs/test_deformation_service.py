"""Ground deformation between two real dates 10 days apart (no ground motion on this crop)."""

from __future__ import annotations

import numpy as np
import rasterio
import requests

from .conftest import PRODUCTS
from .test_processes_api import _auth, _wait, _zone

BEFORE = "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
AFTER = "SENTINEL2A_20180816-104419-575_L2A_T31UFQ_D_V1-8"  # both clear


def _run(url: str, token: str, **inputs: object) -> requests.Response:
    return requests.post(f"{url}/ogcapi/processes/ground-deformation/execution",
                         json={"inputs": inputs}, headers=_auth(token), timeout=60)  # fmt: skip


def test_two_clear_dates_of_stable_ground_show_sub_pixel_displacements(
    year_url: tuple[str, str],
) -> None:
    url, token = year_url
    b4 = next((PRODUCTS / "theia" / BEFORE).glob("*_FRE_B4.tif"))
    response = _run(url, token, collection="theia-sentinel-2-l2a", before=BEFORE, after=AFTER,
                    zone=_zone(str(b4), (0, 80), (0, 80)), window=32, step=16)  # fmt: skip
    assert response.status_code == 201, response.text
    status = _wait(url, response.json()["jobID"], token, timeout=120)
    assert status["status"] == "successful", status
    links = requests.get(f"{url}/ogcapi/jobs/{status['jobID']}/results", headers=_auth(token),
                         timeout=30).json()  # fmt: skip
    layers = {}
    for key in ("EW", "NS", "SCORE"):
        data = requests.get(links[key]["href"], headers=_auth(token), timeout=30).content
        with rasterio.MemoryFile(data) as memory, memory.open() as ds:
            layers[key] = ds.read(1)
            assert ds.res == (160.0, 160.0)  # one value per 16 px step of 10 m
    kept = np.isfinite(layers["EW"])
    assert kept.sum() >= 9 and np.all(layers["SCORE"][kept] >= 0.3)
    # stable ground, co-registered products: displacements within half a pixel (5 m)
    assert np.nanmax(np.abs(layers["EW"])) < 5 and np.nanmax(np.abs(layers["NS"])) < 5
    assert requests.get(links["plot"]["href"], headers=_auth(token), timeout=30).ok


def test_bad_requests_are_refused(year_url: tuple[str, str]) -> None:
    url, token = year_url
    b4 = next((PRODUCTS / "theia" / BEFORE).glob("*_FRE_B4.tif"))
    small = _zone(str(b4), (0, 10), (0, 10))
    cases = [
        ({"before": BEFORE, "after": BEFORE, "zone": small}, "another product"),
        ({"before": BEFORE, "after": AFTER, "zone": small}, "smaller than one 32 px window"),
        ({"before": BEFORE, "after": "nope", "zone": small}, "nope"),
        ({"before": BEFORE, "after": AFTER, "zone": small, "asset": "B99"}, "no 'B99'"),
    ]
    for inputs, reason in cases:
        response = _run(url, token, collection="theia-sentinel-2-l2a", **inputs)
        assert response.status_code in (400, 404) and reason in response.json()["description"]
