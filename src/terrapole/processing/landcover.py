"""Supervised land-cover classification of a time-series stack (random forest, scikit-learn).

Features are the per-date bands and indices stacked as (feature, y, x). Acquisitions fall on
different days with different clouds, so a chain first puts every band on a regular time grid
(:func:`gapfill`: linear interpolation between the clear observations around each grid day, the
nearest one before the first or after the last), as CESBIO's iota2 does for the OSO maps.
Training pixels come from the user's polygons rasterised to two arrays on the same grid:
``labels`` (class code, −1 outside polygons) and ``polygons`` (polygon id). Whole polygons are
held out for validation — pixels of one polygon never sit on both sides, which would inflate the
accuracy — and the report gives the confusion matrix, overall accuracy, Cohen's kappa and
per-class F1 on them. :func:`train` fits and validates; :func:`predict` classifies any block of
features (chunk by chunk on a full tile); :func:`classify` does both on arrays in memory.
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
class Model:
    """A fitted classifier and its validation on held-out polygons."""

    forest: RandomForestClassifier
    accuracy: Accuracy


@dataclass(frozen=True)
class Classification:
    """The class map (255 where a pixel has no complete features) and its accuracy report."""

    classes: NDArray[np.uint8]
    accuracy: Accuracy


def gapfill(values: Array, days: Array, grid: Array) -> NDArray[np.float32]:
    """(time, y, x) observations with NaN gaps -> (grid day, y, x) on the regular ``grid``.

    ``days`` (ascending) and ``grid`` are day numbers. Each grid day takes the linear
    interpolation between the last clear observation on or before it and the first after it;
    before the first or after the last clear observation, the nearest one; NaN where a pixel
    was never clear.
    """
    t = len(days)
    valid = np.isfinite(values)
    steps = np.arange(t).reshape(t, *([1] * (values.ndim - 1)))
    last = np.maximum.accumulate(np.where(valid, steps, -1), axis=0)
    first = np.minimum.accumulate(np.where(valid, steps, t)[::-1], axis=0)[::-1]
    out = np.full((len(grid), *values.shape[1:]), np.nan, dtype=np.float32)
    for g, day in enumerate(grid):
        p = int(np.searchsorted(days, day, side="right")) - 1
        before = last[p] if p >= 0 else np.full(values.shape[1:], -1)
        after = first[p + 1] if p + 1 < t else np.full(values.shape[1:], t)
        has_before, has_after = before >= 0, after < t
        b, a = np.clip(before, 0, t - 1), np.clip(after, 0, t - 1)
        vb = np.take_along_axis(values, b[None], axis=0)[0]
        va = np.take_along_axis(values, a[None], axis=0)[0]
        span = np.where(has_before & has_after, days[a] - days[b], 1.0)
        w = np.where(has_before & has_after, (day - days[b]) / np.where(span == 0, 1, span), 0.0)
        both = vb + (va - vb) * w
        out[g] = np.where(has_before & has_after, both, np.where(has_before, vb, va))
        out[g][~(has_before | has_after)] = np.nan
    return out


def train(
    x: Array,
    y: NDArray[np.integer[Any]],
    groups: NDArray[np.integer[Any]],
    *,
    test_fraction: float = 0.3,
    trees: int = 100,
    seed: int = 0,
) -> Model:
    """Fit on some polygons' pixels (rows of ``x``), validate on the held-out polygons."""
    if len(y) == 0:
        raise ValueError("no training pixel: the polygons lie outside the data (or on no data)")
    if len(np.unique(y)) < 2:
        raise ValueError(f"training needs at least two classes; the polygons hold only {y[0]}")
    if len(np.unique(groups)) < 2:
        raise ValueError("validation needs polygons held out: give at least two polygons")
    split = GroupShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    fit, test = next(split.split(x, y, groups))
    forest = RandomForestClassifier(n_estimators=trees, random_state=seed, n_jobs=1)
    forest.fit(x[fit], y[fit])
    predicted = forest.predict(x[test])
    codes = sorted(int(c) for c in np.unique(y))
    scores = f1_score(y[test], predicted, labels=codes, average=None, zero_division=0)
    accuracy = Accuracy(
        classes=codes,
        confusion=confusion_matrix(y[test], predicted, labels=codes).tolist(),
        overall=float(np.mean(predicted == y[test])),
        kappa=float(cohen_kappa_score(y[test], predicted, labels=codes)),
        f1={c: float(f) for c, f in zip(codes, scores, strict=True)},
        pixels=int(len(test)),
    )
    return Model(forest, accuracy)


def predict(forest: RandomForestClassifier, features: Array) -> NDArray[np.uint8]:
    """(2, y, x): the class (255 without complete features) and the confidence (% of trees)."""
    n_features = features.shape[0]
    shape = features.shape[1:]
    table = features.reshape(n_features, -1).T
    complete = np.all(np.isfinite(table), axis=1)
    out = np.full((2, table.shape[0]), NODATA_CLASS, dtype=np.uint8)
    if complete.any():
        probabilities = forest.predict_proba(table[complete])
        best = np.argmax(probabilities, axis=1)
        out[0, complete] = forest.classes_[best].astype(np.uint8)
        out[1, complete] = np.round(probabilities.max(axis=1) * 100).astype(np.uint8)
    return out.reshape(2, *shape)


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
    n_features = features.shape[0]
    table = features.reshape(n_features, -1).T
    labelled = (labels.ravel() != UNLABELLED) & np.all(np.isfinite(table), axis=1)
    model = train(
        table[labelled], labels.ravel()[labelled], polygons.ravel()[labelled],
        test_fraction=test_fraction, trees=trees, seed=seed,
    )  # fmt: skip
    return Classification(predict(model.forest, features)[0], model.accuracy)
