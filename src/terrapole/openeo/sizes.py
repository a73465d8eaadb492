"""Size limits on the arrays of a graph that loads nothing: ``array_create(data=[1],
repeat=10**10)`` would need tens of gigabytes, so each process's array arguments and results,
and the array ``array_create`` is asked for, are refused past a number of values (the values a
request may load: a pure computation gets as much room as a load)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import RootModel

from terrapole.errors import InvalidInput


def size(value: Any) -> int:
    """The number of elements of a JSON array or numpy array (0 for anything else)."""
    if isinstance(value, RootModel):
        value = value.root
    if isinstance(value, list | tuple):
        return len(value)
    if isinstance(value, np.ndarray):
        return int(value.size)
    return 0


def _asked(process_id: str, arguments: dict[str, Any]) -> int:
    """The values a process is asked to create before it runs (array_create's data x repeat)."""
    if process_id != "array_create":
        return 0
    repeat = arguments.get("repeat", 1)
    if not isinstance(repeat, int) or isinstance(repeat, bool):
        return 0  # the process refuses it itself
    return size(arguments.get("data")) * max(repeat, 0)


def limited(process_id: str, function: Callable[..., Any], limit: int) -> Callable[..., Any]:
    """``function`` refusing (400 naming ``process_id``) arrays over ``limit`` values."""

    def refuse(what: str, values: int) -> InvalidInput:
        return InvalidInput(
            f"process {process_id}", f"{what} {values:,} values; a request may hold {limit:,}"
        )

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        asked = _asked(process_id, kwargs)
        if asked > limit:
            raise refuse("would create", asked)
        largest = max(map(size, [*args, *kwargs.values()]), default=0)
        if largest > limit:
            raise refuse("an array argument of", largest)
        result = function(*args, **kwargs)
        if size(result) > limit:
            raise refuse("a result of", size(result))
        return result

    return run
