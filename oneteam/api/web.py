"""The household's web page: serves `/` and `/static/...` from `oneteam/web`, gzip-compressed.

Every URL in the page is relative to its `<base href>`, which is written from the prefix the hub
is served under, so a cluster's home at /homes/<id>/ works as a lone hub at / does.

Static files need no token (they hold no data); every API call the page makes carries the
token the person typed in. Files are compressed once and kept in memory, keyed by their
modification time, so an edited file is picked up without a restart.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

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
        "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'self'; "
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


_BASE_TAG = b'<base href="/">'
# One rewritten page per prefix; a process serving many homes keeps only the most recent ones.
_PREFIXED_MAX = 256
_prefixed: dict[tuple[str, int], _Asset] = {}


def _page_at(prefix: str) -> _Asset:
    """The page with its `<base href>` at the prefix it is served under (a cluster serves each
    home at /homes/<id>/, the app's root_path), so every relative URL in it, and every URL its
    scripts build from `document.baseURI`, stays under that prefix. A lone hub's page is the file."""
    page = _CACHE.get("index.html")
    if not prefix:
        return page
    key = (prefix, page.mtime_ns)
    cached = _prefixed.get(key)
    if cached is not None:
        return cached
    href = html.escape(quote(prefix, safe="/") + "/", quote=True)
    body = page.body.replace(_BASE_TAG, f'<base href="{href}">'.encode(), 1)
    if body == page.body:
        raise RuntimeError('index.html lost its <base href="/"> tag')
    asset = _Asset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        content_type=page.content_type,
        mtime_ns=page.mtime_ns,
    )
    if len(_prefixed) >= _PREFIXED_MAX:
        _prefixed.pop(next(iter(_prefixed)))
    _prefixed[key] = asset
    return asset


@router.api_route("/", methods=["GET", "HEAD"])
async def index(request: Request) -> Response:
    """The page itself."""
    prefix: str = request.scope.get("root_path", "")
    return asset_response(request, _page_at(prefix.rstrip("/")))


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
async def favicon(request: Request) -> Response:
    """Browsers ask for this on any page of the host (the JSON ones too); the logo answers."""
    return asset_response(request, _CACHE.get("logo.svg"))


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
async def static_file(path: str, request: Request) -> Response:
    """A script, style sheet, string table or image of the page."""
    return asset_response(request, _CACHE.get(path))
