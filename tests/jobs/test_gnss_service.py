"""The GNSS plotter as a job: the real PBO series of P156, an offset at a date, the outputs."""

from __future__ import annotations

import json

import pytest
import requests
from PIL import Image

from terrapole.processing.gnss import decimal_year

from ..conftest import ROOT
from .test_processes_api import _auth, _wait

POS = (ROOT / "tests" / "data" / "gnss" / "P156.pbo.final_igs08.pos").read_text()


def test_the_plotter_fits_velocities_and_plots_the_detrended_series(
    jobs_url: str, tokens: dict[str, str], jobs_app: object, tmp_path: object
) -> None:
    body = {"inputs": {"series": POS, "offsets": ["2010-01-01"]}}
    response = requests.post(f"{jobs_url}/ogcapi/processes/gnss-plot/execution", json=body,
                             headers=_auth(tokens["ana"]), timeout=60)  # fmt: skip
    assert response.status_code == 201, response.text
    status = _wait(jobs_url, response.json()["jobID"], tokens["ana"])
    assert status["status"] == "successful", status
    links = requests.get(f"{jobs_url}/ogcapi/jobs/{status['jobID']}/results",
                         headers=_auth(tokens["ana"]), timeout=30).json()  # fmt: skip
    fit = requests.get(links["fit"]["href"], headers=_auth(tokens["ana"]), timeout=30).json()
    assert fit["station"] == "P156" and fit["positions"] > 3000
    for component in ("east", "north", "up"):
        assert len(fit[component]["offsets_mm"]) == 1
        assert abs(fit[component]["velocity_mm_yr"]) < 60  # plate motions are tens of mm/yr
        assert fit[component]["velocity_sigma_mm_yr"] > 0
    png = requests.get(links["plot"]["href"], headers=_auth(tokens["ana"]), timeout=30)
    assert png.headers["content-type"] == "image/png"
    path = tmp_path / "plot.png"  # type: ignore[operator]
    path.write_bytes(png.content)
    with Image.open(path) as image:
        assert image.size == (1100, 880)
    table = requests.get(links["series"]["href"], headers=_auth(tokens["ana"]), timeout=30).text
    assert table.splitlines()[0] == "mjd,decimal_year,east_mm,north_mm,up_mm"
    first = table.splitlines()[1].split(",")
    assert float(first[1]) == pytest.approx(decimal_year([float(first[0])])[0], abs=1e-5)
    item = requests.get(links["item"]["href"], headers=_auth(tokens["ana"]), timeout=30).json()
    assert item["geometry"]["coordinates"] == pytest.approx([-123.906, 40.024], abs=1e-3)
    assert item["properties"]["terrapole:station"] == "P156"
    assert json.dumps(item["properties"]["terrapole:velocity_mm_yr"])


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        ({"series": "not a position file"}, "CSV needs columns"),
        ({"series": POS, "offsets": ["2030-01-01"]}, None),  # accepted; fails at run: outside
        ({"series": POS, "offsets": ["tomorrow"]}, "does not match"),
        ({"series": "mjd,east,north,up\n" + "\n".join(f"{50000 + i},0,0,0" for i in range(20))},
         "gives no station position"),
    ],
)  # fmt: skip
def test_bad_series_are_refused_or_fail_with_the_reason(
    jobs_url: str, tokens: dict[str, str], inputs: dict[str, object], reason: str | None
) -> None:
    response = requests.post(f"{jobs_url}/ogcapi/processes/gnss-plot/execution",
                             json={"inputs": inputs}, headers=_auth(tokens["bob"]), timeout=60)  # fmt: skip
    if reason is not None:
        assert response.status_code == 400 and reason in response.json()["description"]
        return
    status = _wait(jobs_url, response.json()["jobID"], tokens["bob"])
    assert status["status"] == "failed" and "outside the series" in status["message"]
