"""The API's interactive docs at /docs, served with Swagger UI's files from this machine.

FastAPI's own /docs loads Swagger UI from a CDN, so on a home network without internet the page
stays blank. The `fastapi-offline` package ships Swagger UI 5 (which reads OpenAPI 3.1, as FastAPI
writes it); only its files are used, served under /docs/assets/, and the page names no other host
(the spec's validator badge is off too).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}


def _assets_dir() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:
        return None
    folder = Path(fastapi_offline.__file__).parent / "static"
    return folder if all((folder / name).is_file() for name in _ASSETS) else None


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request) -> Response:
    """Swagger UI for this hub's OpenAPI spec."""
    if _assets_dir() is None:
        raise HTTPException(status_code=404)
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} API",
        swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
        swagger_favicon_url=f"{root}/docs/assets/favicon.png",
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/docs/assets/{name}")
async def docs_asset(name: str) -> Response:
    """One of Swagger UI's files."""
    folder = _assets_dir()
    if folder is None or name not in _ASSETS:
        raise HTTPException(status_code=404)
    return FileResponse(
        folder / name, media_type=_ASSETS[name], headers={"Cache-Control": "public, max-age=86400"}
    )
