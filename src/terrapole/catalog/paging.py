"""Opaque keyset paging tokens: the sort values of the last row seen, signed by nothing secret.

A keyset token stays correct while items are inserted: the next page starts strictly after the
last row returned, whatever was added before it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from terrapole.errors import InvalidToken


def encode(direction: str, values: list[Any]) -> str:
    """Encode a direction (``next``/``prev``) and the boundary row's sort values."""
    raw = orjson.dumps({"d": direction, "v": values})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, *, width: int) -> tuple[str, list[Any]]:
    """Decode a token made by :func:`encode` for a sort of ``width`` keys, or raise."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        direction, values = data["d"], data["v"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(token) from exc
    if direction not in ("next", "prev") or not isinstance(values, list) or len(values) != width:
        raise InvalidToken(token)
    return direction, values
