"""Errors keep their message and attributes when pickled (raised in a Dask worker or a process
pool, they reach the caller whole)."""

from __future__ import annotations

import pickle

import pytest

from terrapole.errors import (
    InvalidFilter,
    InvalidInput,
    InvalidProduct,
    NotFound,
    TerrapoleError,
)


@pytest.mark.parametrize(
    "error",
    [
        InvalidProduct("/data/S2A.tif", "has no band 2"),
        NotFound("item", "S2A_20180826"),
        InvalidInput("bbox", "west is greater than east"),
        InvalidFilter("unknown operator 'likes'"),
    ],
)
def test_errors_survive_pickling(error: TerrapoleError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error) and copy.message == error.message
    assert copy.__dict__ == error.__dict__
