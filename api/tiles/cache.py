"""A byte-bounded LRU of rendered tiles, per worker. Keys carry the area fingerprint, so an
edit of any boundary makes every older entry unreachable (they age out)."""

from __future__ import annotations

import threading
from collections import OrderedDict


class TileCache:
    def __init__(self, max_bytes: int = 64 * 1024 * 1024, max_scopes: int = 256):
        self.max_bytes = max_bytes
        self.size = 0
        self.items: OrderedDict[tuple, bytes] = OrderedDict()
        self.max_scopes = max_scopes
        self.scopes: OrderedDict[tuple, list[str]] = OrderedDict()  # (scope, fingerprint) -> visible codes
        self.lock = threading.Lock()

    def visible(self, key: tuple) -> list[str] | None:
        with self.lock:
            codes = self.scopes.get(key)
            if codes is not None:
                self.scopes.move_to_end(key)
            return codes

    def keep_visible(self, key: tuple, codes: list[str]) -> None:
        with self.lock:
            self.scopes[key] = codes
            while len(self.scopes) > self.max_scopes:
                self.scopes.popitem(last=False)

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
