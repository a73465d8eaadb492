"""Zonal statistics: summary numbers of the pixels inside a zone, or their class histogram."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


def statistics(values: Array) -> dict[str, float | int | None]:
    """count, mean, std (population), min, p10, median, p90, max of the finite ``values``."""
    finite = values[np.isfinite(values)].astype("float64")
    if finite.size == 0:
        return {"count": 0, "mean": None, "std": None, "min": None, "p10": None,
                "median": None, "p90": None, "max": None}  # fmt: skip
    p10, median, p90 = np.percentile(finite, [10, 50, 90])
    return {
        "count": int(finite.size),
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "min": float(finite.min()),
        "p10": float(p10),
        "median": float(median),
        "p90": float(p90),
        "max": float(finite.max()),
    }


def histogram(values: Array, names: dict[int, str] | None = None) -> dict[str, dict[str, Any]]:
    """Pixels per class value (count and fraction), named when ``names`` knows the value."""
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values.ravel()
    classes, counts = np.unique(finite.astype("int64"), return_counts=True)
    total = int(counts.sum())
    names = names or {}
    return {
        str(int(c)): {
            "name": names.get(int(c), str(int(c))),
            "count": int(n),
            "fraction": n / total,
        }  # fmt: skip
        for c, n in zip(classes, counts, strict=True)
    }
