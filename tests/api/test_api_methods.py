"""OPTIONS and 405 on every path tell the path's real methods (``api.methods``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from api_testkit import RecordingEngine, make_settings
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tradefleet.api.app import create_app

OTHER_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "TRACE")


def _documented(client: TestClient) -> dict[str, list[str]]:
    """Each path of the OpenAPI schema, its ids filled in, and its methods."""
    paths = client.get("/openapi.json").json()["paths"]
    return {
        re.sub(r"\{[^}]+\}", "1", path): sorted(m.upper() for m in ops)
        for path, ops in paths.items()
    }


def _check_every_path(client: TestClient, subtests: pytest.Subtests) -> int:
    documented = _documented(client)
    for path, methods in documented.items():
        allow = ", ".join(sorted([*methods, "OPTIONS"]))
        with subtests.test(path):
            options = client.options(path)
            assert (options.status_code, options.headers["allow"], options.text) == (204, allow, "")
            for method in set(OTHER_METHODS) - set(methods):
                answer = client.request(method, path)
                assert (answer.status_code, answer.headers["allow"]) == (405, allow), method
                if method != "TRACE":
                    assert answer.json() == {"detail": "Method Not Allowed"}
    return len(documented)


def test_options_and_405_list_the_methods_of_every_path(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    """Routes answer before the token check: the list is no secret (the schema is public)."""
    assert _check_every_path(client, subtests) == 26
    bots = client.options("/api/bots")
    assert bots.headers["allow"] == "GET, OPTIONS, POST"  # was "GET" (the first route only)
    one = client.delete("/api/bots")
    assert (one.status_code, one.headers["allow"]) == (405, "GET, OPTIONS, POST")


def test_with_the_web_ui_mounted_too(
    tmp_path: Path, session_factory: sessionmaker[Session], subtests: pytest.Subtests
) -> None:
    """The UI's files at / take GET and HEAD; they do not hide the API's methods."""
    (tmp_path / "index.html").write_text("<html>ui</html>")
    app = create_app(make_settings(), session_factory, RecordingEngine(), static_dir=tmp_path)
    with TestClient(app) as client:
        assert _check_every_path(client, subtests) == 26
        page = client.options("/bots/3")
        assert (page.status_code, page.headers["allow"]) == (204, "GET, HEAD, OPTIONS")
        post = client.post("/index.html")
        assert (post.status_code, post.headers["allow"]) == (405, "GET, HEAD, OPTIONS")
        assert client.get("/bots/3").text == "<html>ui</html>"


def test_unknown_paths_stay_404(client: TestClient) -> None:
    for method in ("OPTIONS", "DELETE", "GET"):
        answer = client.request(method, "/api/nothing-here")
        assert (answer.status_code, answer.json()) == (404, {"detail": "Not Found"})
