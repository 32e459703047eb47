"""Zstandard for the nearest answer, with one compressor kept per thread.

Flask-Compress compresses every other response. On the nearest endpoint, the hottest
one, it cost ~80 µs of a ~600 µs request (bench/http_load.py): it makes a new compression
context per response, and a context costs more to set up than to use on a few KB
(zstd level 3 on a 4 KB answer: 17 µs with a new context, 7 µs with a kept one). Chrome,
Edge and Firefox send `zstd`; other clients (Safari, say) get gzip or brotli from
Flask-Compress as before, which leaves a response alone once it carries
Content-Encoding.
"""

from __future__ import annotations

import sys
import threading
from functools import lru_cache

from flask import Response, current_app, request
from werkzeug.http import parse_accept_header

if sys.version_info >= (3, 14):
    from compression import zstd
else:  # Flask-Compress brings the backport on older Pythons
    from backports import zstd

LEVEL = 3  # Flask-Compress's default for zstd
MIN_BYTES = 500  # as COMPRESS_MIN_SIZE: below this the frame overhead is not worth it

_local = threading.local()


def _compressor() -> zstd.ZstdCompressor:
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstd.ZstdCompressor(level=LEVEL)
    return compressor


@lru_cache(maxsize=256)
def _takes_zstd(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value admits zstd (q > 0), as Werkzeug reads it.

    Parsing the header was ~5 % of a nearest request; clients send a handful of
    distinct values, so each is parsed once per worker (256 kept: a client sending a
    new value per request only gets it parsed, as before)."""
    return parse_accept_header(accept_encoding)["zstd"] > 0


def json_response(body: str, mimetype: str) -> Response:
    """``body`` as the response, zstd-compressed when the client takes zstd."""
    data = body.encode()
    headers = {"Vary": "Accept-Encoding"}
    if len(data) >= MIN_BYTES and _takes_zstd(request.headers.get("Accept-Encoding", "")):
        data = _compressor().compress(data, mode=zstd.ZstdCompressor.FLUSH_FRAME)
        headers["Content-Encoding"] = "zstd"
    # One set_data, with the headers in the constructor (not built, then replaced).
    response: Response = current_app.response_class(data, mimetype=mimetype, headers=headers)
    return response
