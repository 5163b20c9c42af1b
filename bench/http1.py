"""A lean HTTP/1.1 keep-alive client for the load generators and the latency sections.

httpx costs about 1.7 ms of CPU per request on this kind of machine (measured: `bench.client`
with httpx, 8 connections, 1.67 ms per POST), which on 2 cores is taken from the server under
test; the raw-SQL baselines' client is libpq, a fraction of that. This client writes the
request bytes and reads the status line, the headers and a ``Content-Length`` body: nothing
else (no redirects, no chunked bodies, no TLS), which is all the bench needs from the app and
tipg. A server that answers otherwise is an error, never silently misread.
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlencode, urlsplit


class HttpError(RuntimeError):
    pass


def _head(method: str, host: str, path: str, headers: dict[str, str] | None, body: bytes | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def _parse_head(raw: bytes) -> tuple[int, dict[bytes, bytes]]:
    status_line, *header_lines = raw[:-4].split(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise HttpError(f"not an HTTP/1.x answer: {status_line[:80]!r}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"identity") != b"identity":
        raise HttpError("chunked answers are not read by this client")
    return int(parts[1]), headers


def target(path: str, params: dict | None = None) -> str:
    return f"{path}?{urlencode(params)}" if params else path


class Connection:
    """One blocking keep-alive connection (the sequential latency sections)."""

    def __init__(self, base_url: str, timeout: float = 60):
        url = urlsplit(base_url)
        self.host = url.netloc
        self.address = (url.hostname, url.port or 80)
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        return sock

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            self._fill()
        end += len(marker)
        out, self.buffer = self.buffer[:end], self.buffer[end:]
        return out

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill()
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _fill(self) -> None:
        chunk = self.sock.recv(262_144)
        if not chunk:
            raise HttpError("the server closed the connection")
        self.buffer += chunk

    def request(self, method: str, path: str, *, headers: dict | None = None,
                body: bytes | None = None) -> tuple[int, dict[bytes, bytes], bytes]:
        if self.sock is None:
            self.sock = self._connect()
        self.sock.sendall(_head(method, self.host, path, headers, body))
        status, head = _parse_head(self._read_until(b"\r\n\r\n"))
        content = self._read(int(head.get(b"content-length", b"0")))
        if head.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, head, content

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.request("GET", target(path, params), headers=headers)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AsyncConnection:
    """One asyncio keep-alive connection (the load generators run several)."""

    def __init__(self, base_url: str):
        url = urlsplit(base_url)
        self.host = url.netloc
        self.address = (url.hostname, url.port or 80)
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, *, headers: dict | None = None,
                      body: bytes | None = None) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(*self.address)
        reader, writer = self.streams
        try:
            writer.write(_head(method, self.host, path, headers, body))
            status, head = _parse_head(await reader.readuntil(b"\r\n\r\n"))
            content = await reader.readexactly(int(head.get(b"content-length", b"0")))
        except (OSError, asyncio.IncompleteReadError) as exc:
            await self.close()
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        if head.get(b"connection", b"").lower() == b"close":
            await self.close()
        return status, content

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        return await self.request("POST", path, headers={"Content-Type": "application/json"}, body=body)

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None
