"""The GraphiQL page at /graphql loads only same-origin, byte-identical vendored assets."""

from __future__ import annotations

import base64
import hashlib
import html.parser
import re
import warnings
from pathlib import Path

import pytest
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from strawberry.asgi import GraphQL

from ropa.api import graphiql
from ropa.api.graphiql import STATIC_DIR, graphiql_html, local_asset_paths, mount_graphiql
from ropa.errors import ConfigurationError

with warnings.catch_warnings():
    # starlette 1.x prefers httpx2 and warns (as an error under this suite's filterwarnings)
    # when its TestClient falls back to httpx, the dev dependency this project installs.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

STRAWBERRY_TEMPLATE = Path(strawberry.__file__).parent / "static" / "graphiql.html"
CDN_PREFIXES = ("https://unpkg.com/", "https://cdn.jsdelivr.net/npm/")
VENDOR_DIR = STATIC_DIR / "graphiql"


class _Tags(html.parser.HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.assets: list[tuple[str, str, str | None]] = []  # (tag, url, integrity)
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        url = a.get("src") if tag == "script" else a.get("href") if tag == "link" else None
        if url and not url.startswith("data:"):
            self.assets.append((tag, url, a.get("integrity")))


def sri_sha384(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def local_path_of(cdn_url: str) -> str:
    for prefix in CDN_PREFIXES:
        if cdn_url.startswith(prefix):
            return "/static/graphiql/" + cdn_url.removeprefix(prefix)
    raise AssertionError(f"{cdn_url} is not on a known npm CDN")


@pytest.fixture(scope="module")
def original_assets() -> list[tuple[str, str, str | None]]:
    assets = _Tags(STRAWBERRY_TEMPLATE.read_text(encoding="utf-8")).assets
    assert len(assets) >= 7  # react, react-dom, js-cookie, graphiql js+css, explorer js+css
    return assets


def test_page_references_no_other_origin() -> None:
    page = graphiql_html()
    urls = set(re.findall(r"""https?://[^\s"'<>)`]+?(?=%22|[\s"'<>)`]|$)""", page))
    # The only one left is the favicon's inline <svg xmlns=...>, a namespace name never fetched.
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    for _, url, _ in _Tags(page).assets:
        assert url.startswith("/static/graphiql/"), url
    assert "fonts.googleapis" not in page
    assert not re.search(r"\{\{.*?\}\}", page), "strawberry placeholder left unrendered"


def test_page_keeps_every_asset_and_its_integrity(
    original_assets: list[tuple[str, str, str | None]],
) -> None:
    rendered = _Tags(graphiql_html()).assets
    expected = [(tag, local_path_of(url), integ) for tag, url, integ in original_assets]
    assert rendered == expected


def test_every_referenced_asset_is_vendored() -> None:
    paths = local_asset_paths(graphiql_html())
    assert paths
    for url in paths:
        assert (STATIC_DIR / url.removeprefix("/static/")).is_file(), url


def test_vendored_assets_are_byte_identical_to_the_cdn_files(
    original_assets: list[tuple[str, str, str | None]],
) -> None:
    for _, url, integrity in original_assets:
        assert integrity is not None
        assert integrity.startswith("sha384-"), url
        data = (STATIC_DIR / local_path_of(url).removeprefix("/static/")).read_bytes()
        assert sri_sha384(data) == integrity, url


def test_stylesheets_load_nothing_from_another_origin() -> None:
    for css in VENDOR_DIR.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert not re.search(r"@import", text), css
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
            assert ref.startswith("data:"), (css, ref[:80])


def test_each_vendored_package_has_license_and_notice() -> None:
    notice = (VENDOR_DIR / "NOTICE.md").read_text(encoding="utf-8")
    packages = {
        "/".join(p.parts[:2]) if p.parts[0].startswith("@") else p.parts[0]
        for url in local_asset_paths(graphiql_html())
        for p in [Path(url.removeprefix("/static/graphiql/"))]
    }
    assert packages
    for spec in packages:
        assert (VENDOR_DIR / spec / "LICENSE").is_file(), spec
        assert f"`{spec}`" in notice, spec


def test_missing_asset_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graphiql_html.cache_clear()
    monkeypatch.setattr(graphiql, "STATIC_DIR", tmp_path)
    try:
        with pytest.raises(ConfigurationError, match="scripts/vendor-graphiql"):
            graphiql_html()
        with pytest.raises(ConfigurationError):
            mount_graphiql([])
    finally:
        graphiql_html.cache_clear()


def test_static_url_can_follow_a_mount_prefix() -> None:
    page = graphiql_html("/ropa/static/")
    assert all(
        u.startswith("/ropa/static/graphiql/") for u in local_asset_paths(page, "/ropa/static")
    )
    assert len(local_asset_paths(page, "/ropa/static")) == len(local_asset_paths(graphiql_html()))


# The wiring documented in ropa/api/graphiql.py's docstring.


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


class RopaGraphQL(GraphQL[None, None]):
    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_html())


def make_app(ide_enabled: bool) -> Starlette:
    schema = strawberry.Schema(query=Query)
    graphql_app = RopaGraphQL(schema, graphql_ide="graphiql" if ide_enabled else None)
    routes: list[BaseRoute] = [
        Route("/graphql", graphql_app),
        WebSocketRoute("/graphql", graphql_app),
    ]
    if ide_enabled:
        mount_graphiql(routes)
    return Starlette(routes=routes)


CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
}


def test_served_page_and_assets() -> None:
    with TestClient(make_app(ide_enabled=True)) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.text == graphiql_html()
        assert "unpkg.com" not in page.text

        paths = local_asset_paths(page.text)
        assert len(paths) >= 7
        for url in paths:
            resp = client.get(url)
            assert resp.status_code == 200, url
            media_type = resp.headers["content-type"].split(";")[0].strip()
            assert media_type in CONTENT_TYPES[Path(url).suffix], (url, media_type)
            assert resp.content == (STATIC_DIR / url.removeprefix("/static/")).read_bytes()

        # The API itself still answers on the same URL.
        answer = client.post("/graphql", json={"query": "{ ping }"})
        assert answer.json() == {"data": {"ping": "pong"}}


def test_ide_disabled_serves_neither_page_nor_assets() -> None:
    with TestClient(make_app(ide_enabled=False)) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert "GraphiQL" not in page.text
        asset = local_asset_paths(graphiql_html())[0]
        assert client.get(asset).status_code == 404
