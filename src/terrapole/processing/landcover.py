"""Supervised land-cover classification of a time-series stack (random forest, scikit-learn).

Features are the per-date bands and indices stacked as (feature, y, x). Training pixels come
from the user's polygons rasterised to two arrays on the same grid: ``labels`` (class code, −1
outside polygons) and ``polygons`` (polygon id). Whole polygons are held out for validation —
pixels of one polygon never sit on both sides, which would inflate the accuracy — and the report
gives the confusion matrix, overall accuracy, Cohen's kappa and per-class F1 on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import cohen_kappa_score, confusion_matrix, f1_score
from sklearn.model_selection import GroupShuffleSplit

Array = NDArray[Any]
UNLABELLED = -1
NODATA_CLASS = 255


@dataclass(frozen=True)
class Accuracy:
    """Validation on held-out polygons."""

    classes: list[int]
    confusion: list[list[int]]  # rows: reference, columns: predicted
    overall: float
    kappa: float
    f1: dict[int, float]
    pixels: int


@dataclass(frozen=True)
class Classification:
    """The class map (255 where a pixel has no complete features) and its accuracy report."""

    classes: NDArray[np.uint8]
    accuracy: Accuracy


def classify(
    features: Array,
    labels: NDArray[np.integer[Any]],
    polygons: NDArray[np.integer[Any]],
    *,
    test_fraction: float = 0.3,
    trees: int = 100,
    seed: int = 0,
) -> Classification:
    """Train on some polygons, validate on the others, classify every pixel with full features."""
    n_features, rows, cols = features.shape
    table = features.reshape(n_features, -1).T
    complete = np.all(np.isfinite(table), axis=1)
    labelled = (labels.ravel() != UNLABELLED) & complete
    if not labelled.any():
        raise ValueError("no training pixel: the polygons lie outside the data (or on no data)")
    y = labels.ravel()[labelled]
    groups = polygons.ravel()[labelled]
    if len(np.unique(y)) < 2:
        raise ValueError(f"training needs at least two classes; the polygons hold only {y[0]}")
    if len(np.unique(groups)) < 2:
        raise ValueError("validation needs polygons held out: give at least two polygons")
    x = table[labelled]
    split = GroupShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    train, test = next(split.split(x, y, groups))
    model = RandomForestClassifier(n_estimators=trees, random_state=seed, n_jobs=1)
    model.fit(x[train], y[train])
    predicted = model.predict(x[test])
    codes = sorted(int(c) for c in np.unique(y))
    accuracy = Accuracy(
        classes=codes,
        confusion=confusion_matrix(y[test], predicted, labels=codes).tolist(),
        overall=float(np.mean(predicted == y[test])),
        kappa=float(cohen_kappa_score(y[test], predicted, labels=codes)),
        f1={
            c: float(f)
            for c, f in zip(
                codes, f1_score(y[test], predicted, labels=codes, average=None), strict=True
            )
        },
        pixels=int(len(test)),
    )
    out = np.full(rows * cols, NODATA_CLASS, dtype=np.uint8)
    out[complete] = model.predict(table[complete]).astype(np.uint8)
    return Classification(out.reshape(rows, cols), accuracy)
