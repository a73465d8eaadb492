"""Bucket summaries of a numeric series: fold time-ordered points into buckets, merge pieces.

A summary holds a bucket's count and its first, last, min and max points (times in
microseconds). Decimation folds raw points into summaries, the day-summary table stores one
per day, and summaries of pieces of one bucket merge into the bucket's summary exactly (the
earliest point wins a tie on min or max, as in a single fold), so a bucket read from stored
days and a few raw points equals the bucket folded from all its raw points.
"""

from __future__ import annotations

from collections.abc import Iterable

Summary = tuple[int, int, int, float, int, float, int, float, int, float]
"""(bucket, count, first t, v, last t, v, min t, v, max t, v) with t in microseconds."""


def fold(points: Iterable[tuple[int, float]], lo: int, width: int) -> list[Summary]:
    """Cut time-ordered ``(t, v)`` points into buckets ``(t - lo) // width`` in one pass: each
    bucket's count, first, last, min and max point (the earliest point on ties)."""
    out: list[Summary] = []
    bucket = -1
    n = t0 = t1 = tmin = tmax = 0
    v0 = v1 = vmin = vmax = 0.0
    for t, v in points:
        b = (t - lo) // width
        if b != bucket:
            if n:
                out.append((bucket, n, t0, v0, t1, v1, tmin, vmin, tmax, vmax))
            bucket, n, t0, v0, tmin, vmin, tmax, vmax = b, 0, t, v, t, v, t, v
        n += 1
        t1, v1 = t, v
        if v < vmin:
            tmin, vmin = t, v
        elif v > vmax:
            tmax, vmax = t, v
    if n:
        out.append((bucket, n, t0, v0, t1, v1, tmin, vmin, tmax, vmax))
    return out


def merge(pieces: Iterable[Summary]) -> list[Summary]:
    """One summary per bucket, in bucket order, from summaries of time-disjoint pieces of the
    buckets given in any order."""
    found: dict[int, list[float]] = {}
    for piece in pieces:
        into = found.get(piece[0])
        if into is None:
            found[piece[0]] = list(piece)
            continue
        _, n, t0, v0, t1, v1, tmin, vmin, tmax, vmax = piece
        into[1] += n
        if t0 < into[2]:
            into[2], into[3] = t0, v0
        if t1 > into[4]:
            into[4], into[5] = t1, v1
        if vmin < into[7] or (vmin == into[7] and tmin < into[6]):
            into[6], into[7] = tmin, vmin
        if vmax > into[9] or (vmax == into[9] and tmax < into[8]):
            into[8], into[9] = tmax, vmax
    return [
        (int(b), int(s[1]), int(s[2]), s[3], int(s[4]), s[5], int(s[6]), s[7], int(s[8]), s[9])
        for b, s in sorted(found.items())
    ]
