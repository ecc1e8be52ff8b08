"""The GraphiQL IDE at /graphql, served entirely from this server (no CDN, no internet).

strawberry's GraphiQL page (strawberry/static/graphiql.html) loads react, react-dom,
js-cookie, graphiql and @graphiql/plugin-explorer from unpkg.com. This module serves the
same page with every such URL rewritten to a byte-identical copy vendored in
ropa/api/static/graphiql/<package>@<version>/<path> (same `integrity="sha384-..."`
attributes, so the browser still verifies each file). The page makes no request outside
its own origin: the fonts are data: URLs inside graphiql.min.css, the favicon is a data:
URL, and queries go to the page's own URL (subscriptions to the same URL over ws/wss).

The vendored copy is produced by `scripts/vendor-graphiql` from strawberry's template of
the installed strawberry-graphql; rerun it after upgrading strawberry (docs/graphiql.md).
If the installed template references an asset that is not vendored, `graphiql_html()`
raises `ConfigurationError` instead of serving a page that cannot load.

A link `/graphql#token=<secret>` (what `ropa serve --demo` prints) opens the IDE with
`{"Authorization": "Bearer <secret>"}` in its Headers tab, so the schema loads into the
documentation explorer and the first query runs: a small script (`HEADERS_FROM_LINK`) reads the
fragment, which never reaches the server, hands it to the page as its initial headers and
removes it from the address bar and history entry.

Plugging it into the app (ROPA_GRAPHIQL=0 turns the IDE and its assets off)::

    import os

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import BaseRoute, Route, WebSocketRoute
    from strawberry.asgi import GraphQL

    from ropa.api.graphiql import graphiql_html, mount_graphiql


    class RopaGraphQL(GraphQL):  # or GraphQL[Context, RootValue] with your own types
        async def render_graphql_ide(self, request: Request) -> Response:
            # strawberry calls this for a GET /graphql that accepts text/html,
            # only when graphql_ide is not None.
            return HTMLResponse(graphiql_html())


    ide_enabled = os.environ.get("ROPA_GRAPHIQL", "1") != "0"
    graphql_app = RopaGraphQL(schema, graphql_ide="graphiql" if ide_enabled else None)
    routes: list[BaseRoute] = [
        Route("/graphql", graphql_app),
        WebSocketRoute("/graphql", graphql_app),
    ]
    if ide_enabled:
        mount_graphiql(routes)  # serves ropa/api/static at /static
    app = Starlette(routes=routes)

With `graphql_ide=None` strawberry never renders an IDE: a browser GET on /graphql is then
answered by strawberry as a plain GraphQL GET without a query (404 Not Found).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Final

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

from ropa.errors import ConfigurationError

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
"""Directory served by `static_files_app()`; the vendored assets are in its graphiql/."""

STATIC_URL: Final = "/static"
"""Where `mount_graphiql()` mounts `STATIC_DIR`; the page's asset URLs start with it."""

# https://unpkg.com/<package>@<version>/<path>, https://cdn.jsdelivr.net/npm/<package>@<version>/<path>
_CDN_URL: Final = re.compile(
    r"https://(?:unpkg\.com|cdn\.jsdelivr\.net/npm)/"
    r"(?P<spec>(?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*@\d+\.\d+\.\d+(?:[-+][\w.-]+)?)"
    r"/(?P<path>[\w./-]+)"
)
_ABSOLUTE_URL: Final = re.compile(r"""https?://[^\s"'<>)`]+?(?=%22|[\s"'<>)`]|$)""")
# XML namespace names are identifiers, never fetched (the favicon's inline <svg xmlns=...>).
_NAMESPACE_URIS: Final = frozenset({"http://www.w3.org/2000/svg"})
_ASSET_URL: Final = re.compile(r"""\b(?:src|href)="(?P<url>[^"]+)\"""")

HEADERS_FROM_LINK: Final = """<script>
      // ropa: /graphql#token=<secret> fills the Headers tab, then leaves the address bar
      (function () {
        var found = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
        if (!found) return;
        var token = decodeURIComponent(found[1]);
        window.ropaTokenHeaders = JSON.stringify({ Authorization: "Bearer " + token }, null, 2);
        history.replaceState(null, "", window.location.pathname + window.location.search);
      })();
    </script>
    """
# where strawberry's page takes its initial headers (from `?headers=`), and the anchor
# before which the token script goes (the page's own inline script)
_HEADERS_STATE: Final = "React.useState(parameters.headers)"
_PAGE_SCRIPT: Final = re.compile(r"<script>\s*const EXAMPLE_QUERY")


def _strawberry_template() -> str:
    """strawberry's GraphiQL page, rendered the way strawberry's own views render it.

    `strawberry.http.base.BaseView.graphql_ide_html` returns
    `get_graphql_ide_html(graphql_ide="graphiql")` and the ASGI view serves that string as
    is. Older strawberry releases had `{{ SUBSCRIPTION_ENABLED }}`-style placeholders; none
    must be left, or the page would not work.
    """
    html = get_graphql_ide_html(graphql_ide="graphiql")
    leftover = re.findall(r"\{\{\s*[A-Z_]+\s*\}\}", html)
    if leftover:
        raise ConfigurationError(
            f"strawberry's GraphiQL template has unrendered placeholders {sorted(set(leftover))};"
            " update ropa/api/graphiql.py for this strawberry-graphql version"
        )
    return html


def _local_asset_url(match: re.Match[str], static_url: str) -> str:
    return f"{static_url}/graphiql/{match['spec']}/{match['path']}"


def local_asset_paths(html: str, static_url: str = STATIC_URL) -> list[str]:
    """The `/static/graphiql/...` URLs that a page rendered by `graphiql_html()` loads."""
    prefix = f"{static_url}/graphiql/"
    return [m["url"] for m in _ASSET_URL.finditer(html) if m["url"].startswith(prefix)]


@functools.cache
def graphiql_html(static_url: str = STATIC_URL) -> str:
    """strawberry's GraphiQL page with its CDN assets served from `static_url`/graphiql/.

    `static_url` is where `static_files_app()` is mounted (with the app's root path, if
    the app is itself mounted under a prefix). Raises `ConfigurationError` if a referenced
    asset is not vendored or if the page would still load anything from another origin.
    """
    static_url = static_url.rstrip("/")
    html = _CDN_URL.sub(lambda m: _local_asset_url(m, static_url), _strawberry_template())
    html = _with_token_link(html)

    external = {url for url in _ABSOLUTE_URL.findall(html) if url not in _NAMESPACE_URIS}
    external |= {m["url"] for m in _ASSET_URL.finditer(html) if m["url"].startswith("//")}
    if external:
        raise ConfigurationError(
            f"strawberry's GraphiQL page loads {sorted(external)} from another origin; extend"
            " scripts/vendor-graphiql and ropa/api/graphiql.py to vendor it"
        )
    missing = [
        url
        for url in local_asset_paths(html, static_url)
        if not (STATIC_DIR / url.removeprefix(f"{static_url}/")).is_file()
    ]
    if missing:
        raise ConfigurationError(
            f"GraphiQL assets {missing} are not vendored for the installed strawberry-graphql;"
            " run scripts/vendor-graphiql and commit ropa/api/static/graphiql"
        )
    return html


def _with_token_link(html: str) -> str:
    """The page, taking its initial headers from a `#token=` link when there is one."""
    anchor = _PAGE_SCRIPT.search(html)
    if anchor is None or html.count(_HEADERS_STATE) != 1:
        raise ConfigurationError(
            "strawberry's GraphiQL page no longer reads its initial headers as ropa expects;"
            " update ropa/api/graphiql.py (the #token= link) for this strawberry-graphql"
        )
    html = html.replace(
        _HEADERS_STATE, "React.useState(parameters.headers || window.ropaTokenHeaders)"
    )
    return html[: anchor.start()] + HEADERS_FROM_LINK + html[anchor.start() :]


def static_files_app() -> StaticFiles:
    """An ASGI app serving ropa/api/static (the vendored GraphiQL assets), to mount at /static."""
    return StaticFiles(directory=STATIC_DIR)


def mount_graphiql(routes: list[BaseRoute], static_url: str = STATIC_URL) -> list[BaseRoute]:
    """Append the mount serving the GraphiQL assets to `routes` (and return it).

    Checks now, at app construction, that the page can be served (see `graphiql_html`).
    """
    graphiql_html(static_url)
    routes.append(Mount(static_url, app=static_files_app(), name="static"))
    return routes


__all__ = [
    "HEADERS_FROM_LINK",
    "STATIC_DIR",
    "STATIC_URL",
    "graphiql_html",
    "local_asset_paths",
    "mount_graphiql",
    "static_files_app",
]
