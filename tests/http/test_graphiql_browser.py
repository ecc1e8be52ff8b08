"""GraphiQL in a real browser, with no network: the system's headless Chromium, driven by
Playwright, opens the link `ropa serve --demo` prints (`/graphql#token=...`) on a running
service, loads the schema into the documentation explorer, runs a query and shows it.

Every wait is on the page's own events (a response arriving, an element appearing), not on
a polling deadline. Every host name but the loopback address resolves to nothing
(`--host-resolver-rules`), background networking is off, and every request the page makes
is recorded: all of them go to the service itself. Playwright never downloads a browser
here: it launches `/usr/bin/chromium` (`apt-get install chromium`). Without it the test is
skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, Response, expect, sync_playwright

from tests.http.conftest import Running, required_in_ci

pytestmark = pytest.mark.slow

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--no-default-browser-check",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
QUERY = '{ organization(slug: "acme") { name slug ledger { size } } }'
# generous: a loaded machine is slow, but every wait ends as soon as its event happens
WAIT_MS = 120_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        required_in_ci("chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=found, args=FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()  # a fresh profile: no headers kept from another test
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    yield opened
    context.close()


def graphql_post(running: Running, text: str) -> Any:
    def matches(response: Response) -> bool:
        request = response.request
        return (
            request.method == "POST"
            and response.url == running.server.url
            and text in (request.post_data or "")
        )

    return matches


def test_the_demo_link_opens_graphiql_with_the_token_the_docs_and_a_query_offline(
    running: Running, page: Page
) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    link = f"{running.server.url}?q={quote(QUERY)}#token={running.token}"

    with page.expect_response(graphql_post(running, "IntrospectionQuery")) as introspection:
        page.goto(link)
    schema = introspection.value
    assert schema.status == 200
    assert schema.request.headers.get("authorization") == f"Bearer {running.token}"
    assert "errors" not in schema.json()
    assert "token=" not in page.url, "the token stayed in the address bar"
    assert running.token not in page.evaluate("window.location.href")

    # the documentation explorer shows the schema (it failed without the token)
    page.get_by_role("button", name="Show Documentation Explorer").click()
    explorer = page.locator(".graphiql-doc-explorer")
    expect(explorer).to_contain_text("Query", timeout=WAIT_MS)
    expect(explorer).not_to_contain_text("UNAUTHENTICATED")

    with page.expect_response(graphql_post(running, "ledger")) as answered:
        page.locator(".graphiql-execute-button").click()
    found = answered.value.json()["data"]["organization"]
    assert (found["name"], found["slug"]) == ("Acme", "acme")
    assert found["ledger"]["size"] > 0
    shown = page.locator(".graphiql-response")
    expect(shown).to_contain_text('"name": "Acme"', timeout=WAIT_MS)
    expect(shown).not_to_contain_text("errors")

    outside = sorted(
        u for u in requested if not u.startswith((running.server.base, "data:", "about:"))
    )
    assert requested, "no request was recorded"
    assert not outside, f"the page reached outside the service: {outside}"


def test_the_linked_token_is_shown_in_the_headers_tab(running: Running, page: Page) -> None:
    with page.expect_response(graphql_post(running, "IntrospectionQuery")):
        page.goto(f"{running.server.url}#token={running.token}")
    page.get_by_role("button", name="Headers").click()
    headers = page.locator(".graphiql-editor-tool .graphiql-editor").last
    expect(headers).to_contain_text(f'"Authorization": "Bearer {running.token}"', timeout=WAIT_MS)
