"""The household's web page: serves `/` and `/static/...` from `oneteam/web`, gzip-compressed.

Static files need no token (they hold no data); every API call the page makes carries the
token the person typed in. Files are compressed once and kept in memory, keyed by their
modification time, so an edited file is picked up without a restart.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

_LOGGER = logging.getLogger(__name__)

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"

# Only these kinds of file are served; anything else under the folder is not part of the page.
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}
# PNGs are already compressed; gzip would only cost time.
_COMPRESSIBLE = {".html", ".js", ".css", ".json", ".svg", ".webmanifest"}

# The page talks only to the hub that served it: no CDN, no inline script, no framing.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(tags=["web"], include_in_schema=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Asset:
    """One file of the page, ready to send."""

    body: bytes
    """The file as it is on disk."""
    gzipped: bytes | None
    """The gzip-compressed body, or None for files not worth compressing."""
    etag: str
    """A strong validator: the content hash, quoted."""
    content_type: str
    mtime_ns: int
    """Modification time the cache entry was built from."""


class AssetCache:
    """Files of the page, read and compressed once per modification."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._assets: dict[Path, _Asset] = {}

    def resolve(self, relative: str) -> Path:
        """The file for a request path, refusing anything outside the root or of an unserved kind."""
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or candidate.suffix not in _CONTENT_TYPES:
            raise _not_found()
        if not candidate.is_file():
            raise _not_found()
        return candidate

    def get(self, relative: str) -> _Asset:
        """The asset for a request path (built or rebuilt when the file changed)."""
        path = self.resolve(relative)
        mtime_ns = path.stat().st_mtime_ns
        cached = self._assets.get(path)
        if cached is not None and cached.mtime_ns == mtime_ns:
            return cached
        body = path.read_bytes()
        asset = _Asset(
            body=body,
            gzipped=gzip.compress(body, compresslevel=9, mtime=0) if path.suffix in _COMPRESSIBLE else None,
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            content_type=_CONTENT_TYPES[path.suffix],
            mtime_ns=mtime_ns,
        )
        self._assets[path] = asset
        _LOGGER.debug("web asset %s: %d bytes", relative, len(body))
        return asset


def _not_found() -> HTTPException:
    # The app's error handler turns a 404 into the usual {"error": {...}} body in the caller's language.
    return HTTPException(status_code=404)


_CACHE = AssetCache(WEB_ROOT)


def asset_response(request: Request, asset: _Asset) -> Response:
    """The asset as an HTTP answer: 304 when the browser's copy is current, gzip when it accepts it."""
    headers = {
        # File names carry no content hash, so browsers must revalidate; an unchanged file costs a 304.
        "Cache-Control": "no-cache",
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        **_SECURITY_HEADERS,
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    accepts_gzip = "gzip" in request.headers.get("accept-encoding", "").lower()
    if asset.gzipped is not None and accepts_gzip:
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.content_type, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)


@router.api_route("/", methods=["GET", "HEAD"])
async def index(request: Request) -> Response:
    """The page itself."""
    return asset_response(request, _CACHE.get("index.html"))


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
async def favicon(request: Request) -> Response:
    """Browsers ask for this on any page of the host (the JSON ones too); the logo answers."""
    return asset_response(request, _CACHE.get("logo.svg"))


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
async def static_file(path: str, request: Request) -> Response:
    """A script, style sheet, string table or image of the page."""
    return asset_response(request, _CACHE.get(path))
