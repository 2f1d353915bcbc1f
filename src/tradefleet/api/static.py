"""Serve the built web UI next to the API, with client-side routes falling back to index.html."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class SinglePageApp(StaticFiles):
    """Static files; an unknown path outside /api answers index.html (the UI routes it)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as error:
            if error.status_code != 404 or path == "api" or path.startswith("api/"):
                raise
            return await super().get_response("index.html", scope)


def mount_frontend(app: FastAPI, static_dir: Path) -> None:
    """Mount last, so every API route and the docs take precedence."""
    app.mount("/", SinglePageApp(directory=static_dir, html=True), name="frontend")
