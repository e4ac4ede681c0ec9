"""The API's own documentation, `/docs` (Swagger UI), served with its scripts from the server
itself. (No ReDoc: its page loads its logo from redoc.ly whatever it is given.)

FastAPI's default pages load Swagger UI and ReDoc from a CDN: on a hospital LAN without internet,
and under the server's Content-Security-Policy (`default-src 'none'`), they stay blank. The
files come from the `fastapi-offline` package; each page gets a policy that allows exactly its
own scripts (the inline start-up script by its hash), the server's own styles and fetches.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS_URL = "/docs-assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    """The page's own policy (the middleware adds the default one only where none is set)."""
    inline = " ".join(_script_hash(s) for s in _INLINE_SCRIPT.findall(bytes(page.body).decode()))
    page.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' {inline}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return page


def install_api_docs(app: FastAPI) -> None:
    """`/docs` for `app`, created with `docs_url=None, redoc_url=None`."""
    assert app.openapi_url is not None
    openapi_url = app.openapi_url
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS_URL, StaticFiles(directory=str(assets)), name="api-docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _with_policy(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} — API",
                swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            )
        )
