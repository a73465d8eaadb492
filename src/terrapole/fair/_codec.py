"""Frozen dataclasses ↔ camelCase JSON, by field name (``value_uri`` ↔ ``valueUri``).

The model's field names are DataCite's in snake case, so one reflective codec serves every
class: tuples become lists, nested dataclasses objects, ``None`` and empty tuples are left
out. Loading is strict: an unknown key or a value of the wrong kind raises
:class:`~terrapole.errors.InvalidInput` naming the JSON path.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Hashable
from enum import Enum
from functools import cache
from typing import Any, TypeVar, cast

from terrapole.errors import InvalidInput

T = TypeVar("T")

_UPPER = re.compile(r"[A-Z]")


def camel(name: str) -> str:
    """``scheme_uri`` → ``schemeUri``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``schemeUri`` → ``scheme_uri``."""
    return _UPPER.sub(lambda m: "_" + m.group(0).lower(), name)


@cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def dump(value: Any) -> Any:
    """A model value as JSON: dataclasses as objects with camelCase keys, empties left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for spec in dataclasses.fields(value):
            item = getattr(value, spec.name)
            if item is None or item == ():
                continue
            out[camel(spec.name)] = dump(item)
        return out
    if isinstance(value, tuple):
        return [dump(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def load(cls: type[T], data: Any, path: str = "") -> T:
    """``data`` (JSON) as an instance of the dataclass ``cls``; InvalidInput names what is wrong."""
    if not isinstance(data, dict):
        raise InvalidInput(path or "record", f"an object is required, not {_kind(data)}")
    hints = _hints(cast(Hashable, cls))
    names = {camel(spec.name): spec for spec in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, item in data.items():
        spec = names.get(key)
        where = f"{path}.{key}" if path else key
        if spec is None:
            raise InvalidInput(where, f"is not a property of {cls.__name__}")
        if item is None:
            continue
        values[spec.name] = _value(hints[spec.name], item, where)
    try:
        return cls(**values)
    except TypeError as exc:
        missing = [
            camel(s.name)
            for s in dataclasses.fields(cls)  # type: ignore[arg-type]
            if s.default is dataclasses.MISSING
            and s.default_factory is dataclasses.MISSING
            and s.name not in values
        ]
        raise InvalidInput(path or "record", f"missing {', '.join(missing)}") from exc


def _value(hint: Any, item: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _value(options[0], item, where)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(item, list):
            raise InvalidInput(where, f"a list is required, not {_kind(item)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], x, f"{where}[{i}]") for i, x in enumerate(item))
        if len(item) != len(args):
            raise InvalidInput(where, f"{len(args)} values are required, not {len(item)}")
        return tuple(
            _value(a, x, f"{where}[{i}]") for i, (a, x) in enumerate(zip(args, item, strict=True))
        )
    if dataclasses.is_dataclass(hint):
        return load(hint, item, where)  # type: ignore[arg-type]
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(item)
        except ValueError:
            allowed = ", ".join(str(member.value) for member in hint)
            raise InvalidInput(where, f"{item!r} is none of {allowed}") from None
    if hint is float:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise InvalidInput(where, f"a number is required, not {_kind(item)}")
        return item  # an int stays one: 49 is written back as 49, not 49.0
    if hint is str and not isinstance(item, str):
        raise InvalidInput(where, f"a string is required, not {_kind(item)}")
    return item


def _kind(item: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(item), repr(item)
    )
