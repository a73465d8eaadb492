"""An independent transcription of CNES/WASP for the tests (docs/algorithms.md, WASP).

Written from the reference code (WeightOnClouds, ImageResampler with OTB's BCO interpolator,
ITK's DiscreteGaussianImageFilter, TotalWeight, the UpdateSynthesis functor), in plain numpy,
sharing nothing with ``terrapole.processing.wasp``. It runs the reference's way: the dates one
after the other in time order, each updating a running product (weighted mean, weight, mean
date, flag), but in floating point (the reference writes int16 after every date). Where the
reference divides 0 by 0 (clear observations of zero weight) it follows terrapole's documented
choice: such observations are handled like cloudy ones. Where the project chose to follow the
ATBD or a simpler rule over the reference code, the oracle follows the project and cannot see
that departure; each is a listed deviation (docs/algorithms.md): the continuous date weight
(the code's integer division makes it a step), the plain 240 m cloudy fraction, validity over
all bands, and 1e-6 for a fully cloudy blur.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from scipy.special import iv

CELL_M = 240.0
NO_DATA, CLOUD, SNOW, WATER, LAND = 0, 1, 2, 3, 4


@dataclass
class Date:
    """One L2A date: stored reflectances (band, y, x) ×10000 with -10000 for no data, the 20 m
    CLM codes, optionally MG2 codes (20 m), its day and sensor, and optionally the stored AOT."""

    bands: np.ndarray
    clm: np.ndarray
    day: date
    mg2: np.ndarray | None = None
    sensor: str = "sentinel-2"
    aot: np.ndarray | None = None  # ATB band 2 as stored (DN), on the bands' grid


@dataclass
class Product:
    frc: np.ndarray  # (band, y, x) int
    weight: np.ndarray  # float, 0-…
    dts: np.ndarray  # days from D0 (NaN: no data)
    flg: np.ndarray


def discrete_gaussian(sigma: float) -> np.ndarray:
    """ITK GaussianOperator: e^(-t) I_n(t), t = σ², grown until 99 % of the mass, normalised."""
    t = sigma**2
    coeffs = [math.exp(-t) * iv(0, t), math.exp(-t) * iv(1, t)]
    mass = coeffs[0] + 2 * coeffs[1]
    n = 2
    while mass < 0.99:
        coeffs.append(math.exp(-t) * iv(n, t))
        mass += 2 * coeffs[-1]
        n += 1
    half = np.array(coeffs) / mass
    return np.concatenate([half[::-1], half[1:]])


def blur(grid: np.ndarray, sigma: float) -> np.ndarray:
    """Separable blur with edge values repeated (ITK's zero-flux Neumann boundary)."""
    kernel = discrete_gaussian(sigma)
    r = len(kernel) // 2
    out = grid.astype(float)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r, r)
        padded = np.pad(out, pad, mode="edge")
        acc = np.zeros_like(out)
        for k, c in enumerate(kernel):
            acc += c * np.take(padded, range(k, k + out.shape[axis]), axis=axis)
        out = acc
    return out


def bco_1d(u: float, size: int) -> list[tuple[int, float]]:
    """OTB BCO (radius 2, α = -0.5) taps at continuous index ``u`` of a ``size``-long axis."""
    radius, alpha = 2, -0.5
    base = math.floor(u + 0.5)
    offset = u - base
    step = 4.0 / (2 * radius)
    position = -radius * step
    coef = []
    for _ in range(2 * radius + 1):
        d = abs(position - offset * step)
        if d <= 1:
            c = (alpha + 2) * d**3 - (alpha + 3) * d**2 + 1
        elif d <= 2:
            c = alpha * d**3 - 5 * alpha * d**2 + 8 * alpha * d - 4 * alpha
        else:
            c = 0.0
        coef.append(c)
        position += step
    total = sum(coef)
    return [(min(max(base + i - radius, 0), size - 1), c / total) for i, c in enumerate(coef)]


def upsample(grid: np.ndarray, pixel: float, shape: tuple[int, int]) -> np.ndarray:
    """The 240 m ``grid`` at the centres of the ``pixel`` m pixels (same upper-left corner)."""
    rows = [
        bco_1d(((i + 0.5) * pixel - CELL_M / 2) / CELL_M, grid.shape[0]) for i in range(shape[0])
    ]
    cols = [
        bco_1d(((j + 0.5) * pixel - CELL_M / 2) / CELL_M, grid.shape[1]) for j in range(shape[1])
    ]
    out = np.zeros(shape)
    for i, rtaps in enumerate(rows):
        line = sum(w * grid[r] for r, w in rtaps)
        for j, ctaps in enumerate(cols):
            out[i, j] = sum(w * line[c] for c, w in ctaps)
    return out


def cloud_weight(cloud20: np.ndarray, pixel: float, shape: tuple[int, int]) -> np.ndarray:
    """W_cloud on the ``pixel`` m grid from the binary 20 m cloud mask."""
    n = int(CELL_M // 20)
    rows, cols = -(-cloud20.shape[0] // n), -(-cloud20.shape[1] // n)
    padded = np.pad(
        cloud20.astype(float),
        ((0, rows * n - cloud20.shape[0]), (0, cols * n - cloud20.shape[1])),
        mode="edge",
    )
    fraction = padded.reshape(rows, n, cols, n).mean(axis=(1, 3))
    cloudy_cells = (fraction > 0.5).astype(float)
    s = np.abs(upsample(blur(cloudy_cells, 2.0), pixel, shape))
    large = np.abs(upsample(blur(cloudy_cells, 10.0), pixel, shape))
    # the reference's "|S| >= 1 or |L| >= 1", with 1e-6 for rounding (a fully cloudy
    # neighbourhood blurs and interpolates to 1 only up to it)
    full = (s >= 1 - 1e-6) | (large >= 1 - 1e-6)
    return np.where(full, 0.0, (1 - s) * (1 - large))


def aot_weight(stored: np.ndarray | None) -> np.ndarray | float:
    """WeightOnAOT: AOT = DN / 200 (MUSCATE quantification); 0 below 0; 0.33 + 0.67 (1 − AOT /
    0.8) below 0.8; 0.33 above. 1 when the product has no AOT."""
    if stored is None:
        return 1.0
    aot = stored.astype(float) / 200.0
    weight = np.where(aot < 0.8, 0.33 + (1.0 - 0.33) * (1.0 - aot / 0.8), 0.33)
    return np.where(aot < 0, 0.0, weight)


def synthesis(dates: list[Date], d0: date, pixel: float, blue: int = 0) -> Product:
    """The L3A product of ``dates`` at ``pixel`` m (bands on that grid, masks at 20 m)."""
    nb, ny, nx = dates[0].bands.shape
    refl = np.full((nb, ny, nx), np.nan)
    weight = np.zeros((ny, nx))
    when = np.full((ny, nx), np.nan)
    flag = np.full((ny, nx), NO_DATA)
    rep = int(round(20 / pixel))
    for obs in sorted(dates, key=lambda o: o.day):
        cloud20 = (obs.clm.astype(int) & 1) == 1
        cloud = np.repeat(np.repeat(cloud20, rep, 0), rep, 1)[:ny, :nx]
        gap = abs((obs.day - d0).days)
        w_date = 1 - 0.5 * gap / 23 if gap <= 23 else 0.0
        w_sensor = 1.0 if obs.sensor == "sentinel-2" else 0.33
        w = cloud_weight(cloud20, pixel, (ny, nx)) * w_date * w_sensor * aot_weight(obs.aot)
        wet = snowy = np.zeros((ny, nx), bool)
        if obs.mg2 is not None:
            codes = np.repeat(np.repeat(obs.mg2.astype(int), rep, 0), rep, 1)[:ny, :nx]
            wet, snowy = (codes & 1) == 1, (codes & 4) == 4
        valid = (obs.bands != -10000).all(axis=0)
        cur = obs.bands.astype(float)
        day = float((obs.day - d0).days)
        land = valid & ~cloud & ~wet & ~snowy & (w > 0)
        surface = valid & ~cloud & (wet | snowy)
        clouded = valid & ~land & ~surface  # cloudy, or clear with no weight
        # land: the running weighted mean (the first land date starts it)
        seen = land & (weight > 0)
        new = land & ~seen
        tot = np.where(seen, weight + w, 1.0)
        refl = np.where(seen, (weight * refl + w * cur) / tot, np.where(new, cur, refl))
        when = np.where(seen, (weight * when + w * day) / tot, np.where(new, day, when))
        weight = np.where(land, weight + w, weight)
        flag = np.where(land, LAND, flag)
        # snow or water: taken while no land date weighs, weight 0
        take = surface & (weight <= 0)
        refl = np.where(take, cur, refl)
        when = np.where(take, day, when)
        flag = np.where(take, np.where(wet, WATER, SNOW), flag)
        # clouds: fill a pixel with nothing yet, or replace a darker-in-blue cloud
        first = clouded & (flag == NO_DATA)
        darker = clouded & (flag == CLOUD) & (cur[blue] < refl[blue])
        refl = np.where(first | darker, cur, refl)
        when = np.where(first | darker, day, when)
        flag = np.where(first, CLOUD, flag)
    frc = np.where(np.isnan(refl), -10000, np.rint(np.nan_to_num(refl, nan=0.0))).astype(int)
    return Product(frc, weight, when, flag)


def read_dates(folders: list[Any], resolution: str) -> list[Date]:
    """The dates of THEIA product folders: the 10 m (R1: B2 B3 B4) or 20 m (R2: B8A B11 B12)
    bands and the 20 m CLM (and MG2, and the group's ATB band 2, when there)."""
    import rasterio

    names = ("B2", "B3", "B4") if resolution == "R1" else ("B8A", "B11", "B12")
    out = []
    for folder in folders:
        bands = []
        for name in names:
            with rasterio.open(next(folder.glob(f"*_FRE_{name}.tif"))) as ds:
                bands.append(ds.read(1))
        with rasterio.open(next(folder.glob("MASKS/*_CLM_R2.tif"))) as ds:
            clm = ds.read(1)
        mg2_file = next(folder.glob("MASKS/*_MG2_R2.tif"), None)
        mg2 = None
        if mg2_file is not None:
            with rasterio.open(mg2_file) as ds:
                mg2 = ds.read(1)
        aot = None
        atb_file = next(folder.glob(f"*_ATB_{resolution}.tif"), None)
        if atb_file is not None:
            with rasterio.open(atb_file) as ds:
                aot = ds.read(2)
        stamp = folder.name.split("_")[1]
        day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
        out.append(Date(np.stack(bands), clm, day, mg2, aot=aot))
    return out
