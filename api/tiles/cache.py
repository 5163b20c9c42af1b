"""A byte-bounded LRU of rendered tiles, per worker. Keys carry the area fingerprint, so an
edit of any boundary makes every older entry unreachable (they age out).

The fingerprint itself is kept too, while the worker's listening connection is up: any write to
``area`` sends a ``gridgov_cache`` note (migration 0013) that forgets it, so a tile served from
the cache costs no database round trip. ``generation`` counts those notes: a fingerprint read
while one arrived is not kept."""

from __future__ import annotations

import threading
from collections import OrderedDict


class TileCache:
    def __init__(self, max_bytes: int = 64 * 1024 * 1024, max_scopes: int = 256):
        self.max_bytes = max_bytes
        self.size = 0
        self.items: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()  # key -> (tile, its ETag)
        self.max_scopes = max_scopes
        self.scopes: OrderedDict[tuple, tuple] = OrderedDict()  # (scope, fingerprint) -> (visible codes or None,)
        self.lock = threading.Lock()
        self.fingerprint: str | None = None  # of the boundaries, while no note has said they changed
        self.generation = 0

    def boundaries_changed(self, note: dict | None = None) -> None:
        """A ``gridgov_cache`` "areas" note (or the listener lost: notes may have been missed)."""
        self.generation += 1
        self.fingerprint = None

    def visible(self, key: tuple) -> tuple | None:
        with self.lock:
            codes = self.scopes.get(key)
            if codes is not None:
                self.scopes.move_to_end(key)
            return codes

    def keep_visible(self, key: tuple, shown: tuple) -> None:
        with self.lock:
            self.scopes[key] = shown
            while len(self.scopes) > self.max_scopes:
                self.scopes.popitem(last=False)

    def clear_tiles(self) -> None:
        """Forget every drawn tile (the bench draws the same tiles again from scratch)."""
        with self.lock:
            self.items.clear()
            self.size = 0

    def get(self, key: tuple) -> tuple[bytes, str] | None:
        """(tile, ETag) of ``key``, if drawn."""
        with self.lock:
            entry = self.items.get(key)
            if entry is not None:
                self.items.move_to_end(key)
            return entry

    def put(self, key: tuple, tile: bytes, etag: str) -> None:
        if len(tile) > self.max_bytes // 8:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= len(old[0])
            self.items[key] = (tile, etag)
            self.size += len(tile)
            while self.size > self.max_bytes:
                _, (dropped, _) = self.items.popitem(last=False)
                self.size -= len(dropped)
