"""A byte-bounded LRU of rendered tiles, per worker. Keys carry the area fingerprint, so an
edit of any boundary makes every older entry unreachable (they age out)."""

from __future__ import annotations

import threading
from collections import OrderedDict


class TileCache:
    def __init__(self, max_bytes: int = 64 * 1024 * 1024):
        self.max_bytes = max_bytes
        self.size = 0
        self.items: OrderedDict[tuple, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self.lock:
            tile = self.items.get(key)
            if tile is not None:
                self.items.move_to_end(key)
            return tile

    def put(self, key: tuple, tile: bytes) -> None:
        if len(tile) > self.max_bytes // 8:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self.items[key] = tile
            self.size += len(tile)
            while self.size > self.max_bytes:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped)
