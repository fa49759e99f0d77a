"""In-process cache of rendered JSON bodies, keyed by what the body depends on.

A listing is read far more often than its data changes (a run, a follow-up,
a consent, an import), so its rendered body is kept under a key that holds
the data's version: a change gives a new key, never a stale body. The key's
hash is also the response's ``ETag``, so a client that sends it back in
``If-None-Match`` gets a ``304`` with no body.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from fastapi import Request, Response


class BodyCache:
    """At most ``max_entries`` bodies (or rendered values), least recently used evicted first;
    thread-safe."""

    def __init__(self, max_entries: int = 256):
        self.max_entries = max_entries
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
                return body
        body = render()
        with self._lock:
            self._bodies[key] = body
            self._bodies.move_to_end(key)
            while len(self._bodies) > self.max_entries:
                self._bodies.popitem(last=False)
        return body


def etag_of(key: Hashable) -> str:
    return '"' + hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:32] + '"'


GZIP_MIN_BYTES = 1_024  # smaller bodies are sent as they are


def _accepts_gzip(request: Request) -> bool:
    return any(part.split(";")[0].strip() == "gzip" for part in request.headers.get("accept-encoding", "").split(","))


def cached_json(
    request: Request, cache: BodyCache, key: Hashable, render: Callable[[], bytes], *,
    media_type: str = "application/json", compress: bool = False,
) -> Response:
    """The JSON body of ``key`` (rendered once per version), or ``304`` when the client has it.

    With ``compress``, the body is kept gzip-compressed (once per version) and sent so to
    clients that accept it (``Content-Encoding: gzip``), uncompressed to the others."""
    etag = etag_of(key)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if compress:
        headers["Vary"] = "Accept-Encoding"
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    if not compress:
        return Response(cache.get_or_render(key, render), media_type=media_type, headers=headers)

    def packed() -> bytes:
        body = render()
        return b"gz" + gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_BYTES else b"id" + body

    stored = cache.get_or_render(("gzip", key), packed)
    if stored[:2] == b"id":
        return Response(stored[2:], media_type=media_type, headers=headers)
    if _accepts_gzip(request):
        return Response(stored[2:], media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(gzip.decompress(stored[2:]), media_type=media_type, headers=headers)
