"""The web page in a real browser (Playwright driving Debian's headless Chromium).

The servers are started the way ./scripts/dev starts them: `todo-service dev` in a child
process (embedded moto, the API and the web server on free loopback ports). Every test starts
from the same table: the repository's seed file plus enough extra todos for two pages.

Needs the `playwright` package (the `test` extra) and /usr/bin/chromium (Debian's `chromium`,
installed by .ci/provision-web.sh; TODO_TEST_CHROMIUM names another binary). Playwright's
own browser downloads are never used. A screenshot of the page goes to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from todo_service.local.harness import free_port
from todo_service.sdk.client import open_client
from todo_service.settings import Settings
from todo_service.store.seed import load_file
from todo_service.store.todos import TodoRepository

from .support.api import next_link
from .support.browser import item, load_all, screenshot
from .support.devstack import page_server, running_dev
from .support.seedfiles import put, write_seed_file

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures skip (CI turns that into a failure)
    expect = None

ROOT: Final = Path(__file__).resolve().parents[1]
SEED_FILE: Final = ROOT / "data" / "populate-dynamodb.json"
PAGE_SIZE: Final = 20  # app.js's PAGE_SIZE
TABLE: Final = "TodoTable"
# The seed file holds 12 todos (8 active); these make two pages of the page's 20.
EXTRA_TODOS: Final = [(f"Extra todo {n:02d}", n % 5 == 0) for n in range(1, 16)]
SEEDED_TOTAL: Final = 12 + len(EXTRA_TODOS)
SEEDED_ACTIVE: Final = 8 + sum(not done for _, done in EXTRA_TODOS)
SEEDED_COMPLETED: Final = SEEDED_TOTAL - SEEDED_ACTIVE
NEWEST_SEEDED: Final = "Call Mum on Sunday"  # the seed file's latest createdAt
XSS: Final = "<img src=x onerror=window.__xss=1>"


@dataclass(frozen=True)
class Stack:
    api_url: str
    page_url: str
    dynamodb_url: str
    extra_seed_file: Path
    startup_output: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`todo-service dev` on free ports, as ./scripts/dev runs it; stopped after the module."""
    extra = write_seed_file(
        tmp_path_factory.mktemp("seed") / "extra.json",
        TABLE,
        [put(1000 + n, text, done) for n, (text, done) in enumerate(EXTRA_TODOS)],
    )
    with running_dev("--no-seed") as dev:
        yield Stack(
            api_url=dev.api_url,
            page_url=dev.page_url,
            dynamodb_url=dev.dynamodb_url,
            extra_seed_file=extra,
            startup_output=dev.startup_output,
        )


async def _reset_table(stack: Stack) -> None:
    settings = Settings(endpoint_url=stack.dynamodb_url, region="us-east-1", table_name=TABLE)
    async with open_client(settings.client_options()) as client:
        repository = TodoRepository(client, TABLE, settings.dynamodb_timeout_s)
        ids: list[int] = []
        after: int | None = None
        while True:
            page = await repository.list(100, after, None)
            ids.extend(todo.id for todo in page.todos)
            if page.last_id is None:
                break
            after = page.last_id
        for todo_id in ids:
            await repository.delete(todo_id)
        for path in (SEED_FILE, stack.extra_seed_file):
            await load_file(client, path, TABLE, progress=False)


@pytest.fixture
def seeded(stack: Stack) -> Stack:
    """The stack with its table holding exactly the seed todos again."""
    # In a thread of its own: Playwright's sync API keeps an event loop running on this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _reset_table(stack)).result(timeout=60)
    return stack


def api_call(stack: Stack, method: str, path: str, body: object | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        stack.api_url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data else {},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def all_todos(stack: Stack) -> list[dict[str, Any]]:
    """Every todo, following the list's Link headers."""
    todos: list[dict[str, Any]] = []
    path: str | None = "/todos?limit=100"
    for _ in range(100):
        if path is None:
            return todos
        with urllib.request.urlopen(stack.api_url + path, timeout=10) as response:
            todos.extend(json.loads(response.read()))
            path = next_link(response.headers)
    raise AssertionError("more than 100 pages of todos")


def open_page(page: Any, url: str) -> None:
    page.goto(url)
    page.locator("#list[aria-busy='false']").wait_for()


# ---- tests ------------------------------------------------------------------------------


def test_page_shows_the_seeded_todos_a_page_at_a_time_newest_first(
    seeded: Stack, page: Any
) -> None:
    open_page(page, seeded.page_url)
    rows = page.locator("#list > li")
    expect(rows).to_have_count(PAGE_SIZE)
    expect(page.locator("#counts")).to_have_text(
        re.compile(rf"^Loaded {PAGE_SIZE} todos: \d+ active, \d+ completed; more to load$")
    )
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(SEEDED_TOTAL)
    expect(page.locator("#counts")).to_have_text(
        f"{SEEDED_TOTAL} todos: {SEEDED_ACTIVE} active, {SEEDED_COMPLETED} completed"
    )
    expect(page.locator("#load-more")).to_be_hidden()
    expect(rows.first.locator(".todo-text")).to_have_text(NEWEST_SEEDED)
    shown = set(rows.locator(".todo-text").all_text_contents())
    assert shown == {todo["text"] for todo in all_todos(seeded)}
    screenshot(page, "web-page.png")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "web-page-phone.png")


def test_without_a_user_pool_the_page_has_no_sign_in_and_sends_no_token(
    seeded: Stack, page: Any
) -> None:
    authorizations: list[str | None] = []
    page.on("request", lambda r: authorizations.append(r.headers.get("authorization")))
    open_page(page, seeded.page_url)
    expect(page.locator("#list > li")).to_have_count(PAGE_SIZE)
    expect(page.locator("#account")).to_be_hidden()
    expect(page.locator("#who")).to_be_hidden()
    assert authorizations
    assert set(authorizations) == {None}
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0


def test_add_toggle_edit_and_delete_by_keyboard_update_the_list_counts_and_the_api(
    seeded: Stack, page: Any
) -> None:
    open_page(page, seeded.page_url)
    load_all(page)
    counts = page.locator("#counts")

    new_text = page.get_by_label("New todo")
    new_text.focus()
    page.keyboard.type("Write the browser tests")
    page.keyboard.press("Enter")
    row = item(page, "Write the browser tests")
    expect(row).to_have_count(1)
    expect(page.locator("#list > li").first).to_contain_text("Write the browser tests")
    expect(new_text).to_have_value("")
    expect(new_text).to_be_focused()
    expect(counts).to_have_text(
        f"{SEEDED_TOTAL + 1} todos: {SEEDED_ACTIVE + 1} active, {SEEDED_COMPLETED} completed"
    )

    checkbox = row.get_by_role("checkbox", name="Write the browser tests")
    checkbox.focus()
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()
    expect(counts).to_have_text(
        f"{SEEDED_TOTAL + 1} todos: {SEEDED_ACTIVE} active, {SEEDED_COMPLETED + 1} completed"
    )
    (created,) = [t for t in all_todos(seeded) if t["text"] == "Write the browser tests"]
    assert created["completed"] is True

    row.get_by_role("button", name="Edit “Write the browser tests”").focus()
    page.keyboard.press("Enter")
    editor = row.get_by_label("Todo text")
    expect(editor).to_be_focused()
    page.keyboard.press("Escape")  # cancel keeps the text
    expect(editor).to_have_count(0)
    edit_button = row.get_by_role("button", name="Edit “Write the browser tests”")
    expect(edit_button).to_be_focused()
    page.keyboard.press("Enter")
    editor.fill("Write more browser tests")
    page.keyboard.press("Enter")
    row = item(page, "Write more browser tests")
    expect(row).to_have_count(1)
    assert api_call(seeded, "GET", f"/todos/{created['id']}")["text"] == (
        "Write more browser tests"
    )

    row.get_by_role("button", name="Delete “Write more browser tests”").click()
    expect(row).to_have_count(0)
    expect(counts).to_have_text(
        f"{SEEDED_TOTAL} todos: {SEEDED_ACTIVE} active, {SEEDED_COMPLETED} completed"
    )
    assert all(t["id"] != created["id"] for t in all_todos(seeded))


def test_changes_survive_a_reload(seeded: Stack, page: Any) -> None:
    open_page(page, seeded.page_url)
    page.get_by_label("New todo").fill("Persist me")
    page.get_by_role("button", name="Add", exact=True).click()
    row = item(page, "Persist me")
    row.get_by_role("checkbox").check()
    expect(row.get_by_role("checkbox")).to_be_checked()
    row.get_by_role("button", name="Edit “Persist me”").click()
    row.get_by_label("Todo text").fill("Persisted")
    row.get_by_role("button", name="Save", exact=True).click()
    expect(item(page, "Persisted")).to_have_count(1)

    page.reload()
    open_page(page, page.url)
    load_all(page)
    row = item(page, "Persisted")
    expect(row).to_have_count(1)
    expect(row.get_by_role("checkbox")).to_be_checked()
    expect(item(page, "Persist me")).to_have_count(0)


def test_filters_ask_the_api_and_show_only_matching_todos(seeded: Stack, page: Any) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_page(page, seeded.page_url)
    rows = page.locator("#list > li")

    page.get_by_role("button", name="Completed", exact=True).click()
    expect(page.locator("[data-filter='completed']")).to_have_attribute("aria-pressed", "true")
    expect(rows).to_have_count(SEEDED_COMPLETED)
    expect(page.locator("#counts")).to_have_text(f"{SEEDED_COMPLETED} completed")
    assert all(box.is_checked() for box in rows.get_by_role("checkbox").all())
    assert any("completed=true" in url for url in requests)
    assert page.url.endswith("#/completed")

    # A todo un-done in the Completed view leaves it.
    first = rows.first.locator(".todo-text").inner_text()
    rows.first.get_by_role("checkbox").click()
    expect(item(page, first)).to_have_count(0)
    expect(page.locator("#counts")).to_have_text(f"{SEEDED_COMPLETED - 1} completed")

    page.get_by_role("button", name="Active", exact=True).click()
    load_all(page)
    expect(rows).to_have_count(SEEDED_ACTIVE + 1)
    assert not any(box.is_checked() for box in rows.get_by_role("checkbox").all())
    assert any("completed=false" in url for url in requests)
    expect(item(page, first)).to_have_count(1)

    page.reload()  # the filter is in the URL, so it survives a reload
    open_page(page, page.url)
    expect(page.locator("[data-filter='active']")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="All", exact=True).click()
    load_all(page)
    expect(rows).to_have_count(SEEDED_TOTAL)


def test_html_in_a_todo_is_shown_as_text_and_never_runs(seeded: Stack, page: Any) -> None:
    open_page(page, seeded.page_url)
    page.get_by_label("New todo").fill(XSS)
    page.get_by_label("New todo").press("Enter")
    expect(item(page, XSS)).to_have_count(1)
    page.reload()
    open_page(page, page.url)
    load_all(page)
    expect(item(page, XSS)).to_have_count(1)
    assert page.locator("#list img").count() == 0
    assert page.evaluate("window.__xss") is None


def test_an_edit_made_stale_by_another_writer_is_refused_with_a_clear_message(
    seeded: Stack, page: Any
) -> None:
    open_page(page, seeded.page_url)
    page.get_by_label("New todo").fill("Shared todo")
    page.get_by_label("New todo").press("Enter")
    row = item(page, "Shared todo")
    todo_id = row.get_attribute("data-id")
    # Starting an edit reads the todo's current version for If-Match.
    with page.expect_response(re.compile(rf"/todos/{todo_id}$")):
        row.get_by_role("button", name="Edit “Shared todo”").click()
    api_call(seeded, "PATCH", f"/todos/{todo_id}", {"text": "Changed elsewhere"})

    editor = page.get_by_label("Todo text")
    editor.fill("My change")
    editor.press("Enter")
    notice = page.locator("#notice")
    expect(notice).to_contain_text("changed somewhere else")
    expect(notice).to_contain_text("“Changed elsewhere”")
    expect(editor).to_have_value("My change")
    assert api_call(seeded, "GET", f"/todos/{todo_id}")["text"] == "Changed elsewhere"

    editor.press("Enter")  # saving again, knowingly, replaces it
    expect(item(page, "My change")).to_have_count(1)
    assert api_call(seeded, "GET", f"/todos/{todo_id}")["text"] == "My change"


def test_an_api_4xx_message_is_shown_to_the_user(seeded: Stack, page: Any) -> None:
    open_page(page, seeded.page_url)
    page.get_by_label("New todo").fill("tab\there")  # the API refuses control characters
    page.get_by_label("New todo").press("Enter")
    expect(page.locator("#notice")).to_contain_text("text must not contain a control character")
    expect(page.locator("#banner")).to_be_hidden()


def test_the_banner_shows_when_the_api_cannot_be_reached(page: Any, seeded: Stack) -> None:
    dead_api = f"http://127.0.0.1:{free_port()}"
    web = page_server(dead_api)
    with web:
        page.goto(f"{web.endpoint_url}/app/")
        banner = page.locator("#banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text(f"Can't reach the todo API at {dead_api}")
        expect(page.get_by_role("button", name="Retry")).to_be_visible()
        expect(page.locator("#list > li")).to_have_count(0)
        screenshot(page, "web-page-api-down.png")

    # The API going away mid-session, and coming back.
    open_page(page, seeded.page_url)
    page.route(f"{seeded.api_url}/**", lambda route: route.abort())
    page.get_by_label("New todo").fill("While the API is down")
    page.get_by_label("New todo").press("Enter")
    expect(page.locator("#banner")).to_be_visible()
    expect(page.get_by_label("New todo")).to_have_value("While the API is down")
    page.unroute(f"{seeded.api_url}/**")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator("#banner")).to_be_hidden()
    expect(page.locator("#list > li")).to_have_count(PAGE_SIZE)


def test_dev_prints_the_page_url_and_lets_only_the_page_origin_call_the_api(
    seeded: Stack,
) -> None:
    assert f"Web page: {seeded.page_url}" in seeded.startup_output
    web_origin = seeded.page_url.removesuffix("/app/")
    localhost_origin = web_origin.replace("127.0.0.1", "localhost")
    for origin, allowed in ((web_origin, True), (localhost_origin, True), ("http://evil", False)):
        request = urllib.request.Request(
            f"{seeded.api_url}/todos",
            method="OPTIONS",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
                allow_origin = response.headers.get("Access-Control-Allow-Origin")
        except urllib.error.HTTPError as error:
            status, allow_origin = error.code, None
        assert (status, allow_origin) == ((204, origin) if allowed else (403, None)), origin
