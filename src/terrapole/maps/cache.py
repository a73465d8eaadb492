"""A bounded in-memory cache of rendered map responses, least recently used out first.

``terrapole.web.tile_cache`` puts it in front of the map routes (with ETag and Cache-Control);
its keys hold what the response depends on, including who may see what.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """A cached response."""

    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]  # as the route sent them (type, encoding, vary)
    etag: bytes


class TileCache:
    """Least-recently-used responses, at most ``max_bytes`` of bodies."""

    def __init__(self, max_bytes: int = 256 * 1024**2) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple[object, ...], Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> Entry | None:
        """The entry for ``key`` (now most recent), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[object, ...], entry: Entry) -> None:
        """Store ``entry``; evict the oldest until the size bound holds."""
        if len(entry.body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self._entries[key] = entry
            self.size += len(entry.body)
            while self.size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.size -= len(evicted.body)
