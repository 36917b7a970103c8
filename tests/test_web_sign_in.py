"""Sign-in on `TODO_AUTH=cognito ./scripts/dev`: the wiring dev does, and the page in Chromium.

One `todo-service dev` with TODO_AUTH=cognito for the module, started as ./scripts/dev starts
it (tests/support/devstack.py): the embedded server is DynamoDB and the Cognito user pool,
the page signs up, confirms, signs in, refreshes and revokes through Cognito's JSON API with
fetch, and calls the API with the access token. Every user is new (a fresh email), so the
tests share the table without sharing a list.

Needs the `playwright` package and Debian's chromium, as tests/test_web_page.py does.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, TypeVar

import aioboto3
import pytest
from botocore.exceptions import ClientError

from todo_service.local.cognito import CONFIRMATION_CODE_HINT, LocalPool, password_rule
from todo_service.sdk.client import open_client
from todo_service.settings import Settings
from todo_service.store.todos import TodoRepository

from .support.api import next_link
from .support.browser import fresh_page, item, load_all, screenshot
from .support.cognito import PASSWORD, refresh, sign_in
from .support.devstack import DevStack, running_dev

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures skip (CI turns that into a failure)
    expect = None

pytestmark = pytest.mark.integration

ROOT: Final = Path(__file__).resolve().parents[1]
SEED_FILE: Final = ROOT / "data" / "populate-dynamodb.json"
TABLE: Final = "TodoTable"
PAGE_SIZE: Final = 20  # app.js's PAGE_SIZE
CODE: Final = "123456"  # any code confirms on the embedded server (CONFIRMATION_CODE_HINT)
# How long a list may lag a write: the owner index is read eventually consistently.
INDEX_WAIT_S: Final = 10.0
T = TypeVar("T")


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    """`TODO_AUTH=cognito todo-service dev` on free ports, seeded as by default."""
    with running_dev(env={"TODO_AUTH": "cognito"}) as dev:
        assert dev.pool is not None, dev.startup_output
        yield dev


def pool_of(stack: DevStack) -> LocalPool:
    assert stack.pool is not None
    return stack.pool


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    # In a thread of its own: Playwright's sync API keeps an event loop running on this one.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result(timeout=60)


def new_email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


def api(
    stack: DevStack, token: str | None, method: str, path: str, body: object | None = None
) -> tuple[int, Any, Any]:
    """(status, JSON body, headers) of one API call with `token` as the bearer."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(stack.api_url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, status, answer_headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, answer_headers = error.read(), error.code, error.headers
    return status, (json.loads(raw) if raw else None), answer_headers


def listed(stack: DevStack, token: str) -> list[dict[str, Any]]:
    """The user's whole list through the API, following its Link headers."""
    todos: list[dict[str, Any]] = []
    path: str | None = "/todos?limit=100"
    while path is not None:
        status, page, headers = api(stack, token, "GET", path)
        assert status == 200, page
        todos.extend(page)
        path = next_link(headers)
    return todos


def wait_listed(stack: DevStack, token: str, count: int) -> list[dict[str, Any]]:
    """The list once it holds `count` todos (bounded: the index catches up within seconds)."""
    deadline = time.monotonic() + INDEX_WAIT_S
    while True:
        todos = listed(stack, token)
        if len(todos) >= count or time.monotonic() > deadline:
            return todos
        time.sleep(0.2)


# ---- dev's wiring (no browser) ----------------------------------------------------------


def test_dev_prints_the_pool_and_how_to_sign_up_and_confirm(stack: DevStack) -> None:
    pool = pool_of(stack)
    assert pool.endpoint_url == stack.dynamodb_url  # one embedded server for both
    assert f"Sign up:  on the web page, with an email and a password of {password_rule()}." in (
        stack.startup_output
    )
    assert CONFIRMATION_CODE_HINT in stack.startup_output


def test_dev_config_js_names_the_embedded_pool_and_the_csp_lets_the_page_reach_it(
    stack: DevStack,
) -> None:
    pool = pool_of(stack)
    with urllib.request.urlopen(stack.page_url + "config.js", timeout=10) as response:
        body = response.read().decode()
    assert body.startswith("window.TODO_CONFIG = ")
    config = json.loads(body.removeprefix("window.TODO_CONFIG = ").rstrip().rstrip(";"))
    assert config["apiBaseUrl"] == stack.api_url
    assert config["auth"] == {
        "region": pool.region,
        "userPoolId": pool.user_pool_id,
        "clientId": pool.client_id,
        "endpoint": stack.dynamodb_url,
        "selfSignUp": True,
    }
    with urllib.request.urlopen(stack.page_url, timeout=10) as response:
        csp = response.headers["Content-Security-Policy"]
    (connect,) = [d for d in csp.split("; ") if d.startswith("connect-src ")]
    assert connect.split()[1:] == ["'self'", stack.api_url, stack.dynamodb_url]


def test_dev_api_takes_the_pools_access_tokens_and_refuses_requests_without(
    stack: DevStack,
) -> None:
    pool = pool_of(stack)
    email = new_email("api")
    run(_sign_up_confirmed(pool, email))
    tokens = run(sign_in(pool, email))
    status, created, _ = api(stack, tokens.access, "POST", "/todos", {"text": "with a token"})
    assert status == 201, created
    status, body, headers = api(stack, None, "GET", "/todos")
    assert status == 401
    assert headers["WWW-Authenticate"] == "Bearer"
    assert body["error"]["code"] == "unauthorized"


async def _sign_up_confirmed(pool: LocalPool, email: str) -> None:
    """Sign up as the page does, with the email as the username, and confirm with any code."""
    async with aioboto3.Session().client(
        "cognito-idp", endpoint_url=pool.endpoint_url, region_name=pool.region
    ) as idp:
        await idp.sign_up(
            ClientId=pool.client_id,
            Username=email,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        await idp.confirm_sign_up(ClientId=pool.client_id, Username=email, ConfirmationCode=CODE)


def test_dev_lets_only_the_page_origin_call_the_embedded_cognito(stack: DevStack) -> None:
    for origin, allowed in ((stack.page_origin, True), ("http://evil.example", False)):
        request = urllib.request.Request(
            stack.dynamodb_url + "/",
            method="OPTIONS",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-amz-target",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, allow = response.status, response.headers["Access-Control-Allow-Origin"]
        except urllib.error.HTTPError as error:
            status, allow = error.code, None
        assert (status, allow) == ((204, origin) if allowed else (403, None)), origin


def test_dev_in_cognito_mode_loads_no_seed_todos(stack: DevStack) -> None:
    """The seed file's todos have no owner, so no user could ever see them."""

    async def texts() -> set[str]:
        settings = Settings(endpoint_url=stack.dynamodb_url, region="us-east-1", table_name=TABLE)
        async with open_client(settings.client_options()) as client:
            page = await TodoRepository(client, TABLE, settings.dynamodb_timeout_s).list(
                1000, None, None
            )
        return {todo.text for todo in page.todos}

    seed_texts = {
        item["PutRequest"]["Item"]["text"]["S"]
        for items in json.loads(SEED_FILE.read_text()).values()
        for item in items
    }
    assert seed_texts
    assert not seed_texts & run(texts())


# ---- the page ---------------------------------------------------------------------------


def form(page: Any, name: str) -> Any:
    return page.locator(f"#{name}-form")


def open_signed_out(page: Any, stack: DevStack) -> None:
    page.goto(stack.page_url)
    expect(form(page, "sign-in")).to_be_visible()
    expect(page.locator("#todos")).to_be_hidden()


def expect_signed_in(page: Any, email: str) -> None:
    expect(page.locator("#who-email")).to_have_text(email)
    expect(page.locator("#account")).to_be_hidden()
    expect(page.locator("#todos")).to_be_visible()
    wait_listed_on_page(page)


def wait_listed_on_page(page: Any) -> None:
    # Attached, not visible: an empty list is not displayed (a new user's list is empty).
    page.locator("#list[aria-busy='false']").wait_for(state="attached")


def sign_up_on_page(page: Any, stack: DevStack, email: str, password: str = PASSWORD) -> None:
    """Sign up, confirm with a code, and be signed in, all on the page."""
    open_signed_out(page, stack)
    page.get_by_role("button", name="Create an account").click()
    sign_up = form(page, "sign-up")
    sign_up.get_by_label("Email").fill(email)
    sign_up.get_by_label("Password").fill(password)
    sign_up.get_by_role("button", name="Create account").click()
    confirm = form(page, "confirm")
    expect(confirm).to_be_visible()
    local, domain = email.split("@")
    expect(page.locator("#confirm-where")).to_contain_text(
        f"We sent a confirmation code by email to {local[0]}***@{domain[0]}***."
    )
    expect(page.locator("#confirm-where")).to_contain_text("runs on this machine")
    confirm.get_by_label("Confirmation code").fill(CODE)
    confirm.get_by_role("button", name="Confirm").click()
    expect_signed_in(page, email)


def sign_in_on_page(page: Any, email: str, password: str = PASSWORD) -> None:
    sign_in_form = form(page, "sign-in")
    sign_in_form.get_by_label("Email").fill(email)
    sign_in_form.get_by_label("Password").fill(password)
    sign_in_form.get_by_role("button", name="Sign in").click()
    expect_signed_in(page, email)


def add_on_page(page: Any, text: str) -> None:
    page.get_by_label("New todo").fill(text)
    page.get_by_label("New todo").press("Enter")
    expect(item(page, text)).to_have_count(1)


def shown_texts(page: Any) -> list[str]:
    return page.locator("#list > li .todo-text").all_text_contents()


def test_two_users_each_see_and_change_only_their_own_todos(stack: DevStack, browser: Any) -> None:
    alice, bob = new_email("alice"), new_email("bob")
    with fresh_page(browser) as page_a, fresh_page(browser) as page_b:
        sign_up_on_page(page_a, stack, alice)
        expect(page_a.locator("#empty")).to_be_visible()  # someone else's todos are not listed
        add_on_page(page_a, "Alice: first")
        add_on_page(page_a, "Alice: second")
        # What the page just created is shown at once, newest first, with no re-list.
        assert shown_texts(page_a) == ["Alice: second", "Alice: first"]

        sign_up_on_page(page_b, stack, bob)
        expect(page_b.locator("#list > li")).to_have_count(0)
        add_on_page(page_b, "Bob: mine")
        assert shown_texts(page_b) == ["Bob: mine"]
        screenshot(page_b, "web-sign-in-bob.png")

        # A reload keeps each tab signed in (the refresh token in sessionStorage), and each
        # list is its owner's alone.
        page_a.reload()
        expect_signed_in(page_a, alice)
        expect(page_a.locator("#list > li")).to_have_count(2)
        assert shown_texts(page_a) == ["Alice: second", "Alice: first"]
        page_b.reload()
        expect_signed_in(page_b, bob)
        assert shown_texts(page_b) == ["Bob: mine"]

    # Through the API with each one's own token: someone else's todo does not exist.
    pool = pool_of(stack)
    token_a, token_b = run(sign_in(pool, alice)).access, run(sign_in(pool, bob)).access
    alices = wait_listed(stack, token_a, 2)
    assert [todo["text"] for todo in alices] == ["Alice: second", "Alice: first"]
    bobs = wait_listed(stack, token_b, 1)
    assert [todo["text"] for todo in bobs] == ["Bob: mine"]
    target = alices[0]["id"]
    for method, path, body in [
        ("GET", f"/todos/{target}", None),
        ("PATCH", f"/todos/{target}", {"text": "Bob was here"}),
        ("POST", f"/todos/{target}/toggle", None),
        ("DELETE", f"/todos/{target}", None),
    ]:
        status, answer, _ = api(stack, token_b, method, path, body)
        assert status == 404, (method, path, answer)
    status, unchanged, _ = api(stack, token_a, "GET", f"/todos/{target}")
    assert status == 200
    assert (unchanged["text"], unchanged["completed"]) == ("Alice: second", False)


def test_the_list_is_newest_first_across_pages(stack: DevStack, page: Any) -> None:
    email = new_email("pages")
    sign_up_on_page(page, stack, email)
    token = run(sign_in(pool_of(stack), email)).access
    texts = [f"Paged todo {n:02d}" for n in range(1, PAGE_SIZE + 6)]
    for text in texts:
        status, answer, _ = api(stack, token, "POST", "/todos", {"text": text})
        assert status == 201, answer
    assert len(wait_listed(stack, token, len(texts))) == len(texts)

    page.reload()
    expect_signed_in(page, email)
    rows = page.locator("#list > li")
    expect(rows).to_have_count(PAGE_SIZE)
    newest_first = list(reversed(texts))
    assert shown_texts(page) == newest_first[:PAGE_SIZE]
    load_all(page)
    expect(rows).to_have_count(len(texts))
    assert shown_texts(page) == newest_first


def test_sign_out_revokes_the_refresh_token_and_forgets_the_list(
    stack: DevStack, page: Any
) -> None:
    email = new_email("leaver")
    sign_up_on_page(page, stack, email)
    add_on_page(page, "Private todo")
    # Where the tokens live: only the refresh token is stored, and only for this tab.
    stored = page.evaluate("Object.keys(sessionStorage)")
    assert stored == ["todo.refreshToken"]
    assert page.evaluate("localStorage.length") == 0
    refresh_token = page.evaluate("sessionStorage.getItem('todo.refreshToken')")

    with page.expect_response(
        lambda r: r.request.headers.get("x-amz-target", "").endswith(".RevokeToken")
    ) as revoked:
        page.get_by_role("button", name="Sign out").click()
    assert revoked.value.status == 200
    expect(page.locator("#account-message")).to_have_text("You have signed out.")
    expect(form(page, "sign-in")).to_be_visible()
    expect(page.locator("#list > li")).to_have_count(0)  # nothing of the list stays
    expect(page.locator("#who")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    with pytest.raises(ClientError) as refused:
        run(refresh(pool_of(stack), refresh_token))
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"

    page.reload()  # nothing left to resume from
    expect(form(page, "sign-in")).to_be_visible()
    sign_in_on_page(page, email)
    expect(item(page, "Private todo")).to_have_count(1)


def test_a_401_from_the_api_returns_to_sign_in(stack: DevStack, page: Any) -> None:
    email = new_email("refused")
    sign_up_on_page(page, stack, email)

    def bad_token(route: Any) -> None:
        headers = {**route.request.headers, "authorization": "Bearer not-a-real-token"}
        route.continue_(headers=headers)

    page.route(f"{stack.api_url}/todos**", bad_token)
    with page.expect_response(re.compile(r"/todos$")) as answer:
        page.get_by_label("New todo").fill("Refused")
        page.get_by_label("New todo").press("Enter")
    assert answer.value.status == 401  # the API's own answer to a bad token
    expect(page.locator("#account-message")).to_have_text("Your session has ended. Sign in again.")
    expect(page.locator("#todos")).to_be_hidden()
    expect(page.locator("#list > li")).to_have_count(0)
    expect(page.get_by_label("New todo")).to_have_value("")
    assert page.evaluate("sessionStorage.length") == 0

    page.unroute(f"{stack.api_url}/todos**")
    sign_in_on_page(page, email)
    add_on_page(page, "Accepted")


def test_the_access_token_is_refreshed_silently_before_it_expires(
    stack: DevStack, page: Any
) -> None:
    email = new_email("refresher")
    page.clock.install()
    sign_up_on_page(page, stack, email)
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.headers["authorization"]) if "authorization" in r.headers else None,
    )
    add_on_page(page, "Before the refresh")
    # The embedded pool's tokens last an hour: a minute before that, the page refreshes.
    with page.expect_request(lambda r: "REFRESH_TOKEN_AUTH" in (r.post_data or "")) as refreshing:
        page.clock.fast_forward("59:30")
    assert refreshing.value.response().status == 200
    add_on_page(page, "After the refresh")
    assert len(sent) >= 2
    assert sent[-1] != sent[0]  # the new access token, which the API accepted
    expect_signed_in(page, email)


def test_cognitos_refusals_are_shown_clearly(stack: DevStack, page: Any) -> None:
    email = new_email("taken")
    run(_sign_up_confirmed(pool_of(stack), email))
    open_signed_out(page, stack)
    error = page.locator("#account-error")

    page.get_by_role("button", name="Create an account").click()
    sign_up = form(page, "sign-up")
    sign_up.get_by_label("Email").fill(email)
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    expect(error).to_have_text("An account with this email already exists. Sign in instead.")
    screenshot(page, "web-sign-up-refused.png")

    sign_up.get_by_label("Email").fill(new_email("weak"))
    sign_up.get_by_label("Password").fill("weakpass")
    sign_up.get_by_role("button", name="Create account").click()
    expect(error).to_contain_text("Choose another password: ")

    sign_up.get_by_role("button", name="Sign in instead").click()
    sign_in_form = form(page, "sign-in")
    sign_in_form.get_by_label("Email").fill(email)
    sign_in_form.get_by_label("Password").fill("Wrong-password-1")
    sign_in_form.get_by_role("button", name="Sign in").click()
    expect(error).to_have_text("Incorrect email or password.")
    sign_in_form.get_by_label("Email").fill(new_email("nobody"))
    sign_in_form.get_by_role("button", name="Sign in").click()
    expect(error).to_have_text("Incorrect email or password.")  # never who has an account

    # Signing in before confirming asks for the code; a wrong code is Cognito's
    # CodeMismatchException. The embedded Cognito takes any code, so that one answer is
    # Cognito's own shape served for moto here.
    unconfirmed = new_email("unconfirmed")
    page.get_by_role("button", name="Create an account").click()
    sign_up.get_by_label("Email").fill(unconfirmed)
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    expect(form(page, "confirm")).to_be_visible()
    page.get_by_role("button", name="Back to sign in").click()
    sign_in_form.get_by_label("Email").fill(unconfirmed)
    sign_in_form.get_by_label("Password").fill(PASSWORD)
    sign_in_form.get_by_role("button", name="Sign in").click()
    expect(page.locator("#account-message")).to_have_text("This account is not confirmed yet.")
    confirm = form(page, "confirm")
    screenshot(page, "web-sign-in-confirm.png")

    def code_mismatch(route: Any) -> None:
        if not route.request.headers.get("x-amz-target", "").endswith(".ConfirmSignUp"):
            route.fallback()
            return
        route.fulfill(
            status=400,
            headers={"Access-Control-Allow-Origin": stack.page_origin},
            content_type="application/x-amz-json-1.1",
            body=json.dumps(
                {
                    "__type": "CodeMismatchException",
                    "message": "Invalid verification code provided, please try again.",
                }
            ),
        )

    page.route(f"{stack.dynamodb_url}/**", code_mismatch)
    confirm.get_by_label("Confirmation code").fill("000000")
    confirm.get_by_role("button", name="Confirm").click()
    expect(error).to_have_text("That confirmation code is not right. Check it and type it again.")
    page.unroute(f"{stack.dynamodb_url}/**")
    confirm.get_by_label("Confirmation code").fill(CODE)
    confirm.get_by_role("button", name="Confirm").click()
    expect_signed_in(page, unconfirmed)


def test_what_the_page_wrote_outlives_a_list_that_lags_behind_it(
    stack: DevStack, page: Any
) -> None:
    """The owner index is eventually consistent: a list read right after a write may miss it."""
    sign_up_on_page(page, stack, new_email("lagging"))
    with page.expect_response(lambda r: r.request.method == "POST") as created:
        add_on_page(page, "Deleted just now")
    gone = created.value.json()
    add_on_page(page, "Added just now")
    item(page, "Deleted just now").get_by_role("button", name="Delete “Deleted just now”").click()
    expect(item(page, "Deleted just now")).to_have_count(0)

    def lagging(route: Any) -> None:
        # The list as the index may still have it: without the new todo, with the deleted one.
        answer = route.fetch()
        todos = [todo for todo in answer.json() if todo["text"] != "Added just now"]
        route.fulfill(response=answer, json=[*todos, gone])

    page.route(re.compile(r"/todos\?"), lagging)
    with page.expect_response(re.compile(r"/todos\?.*completed=false")):
        page.get_by_role("button", name="Active", exact=True).click()
    wait_listed_on_page(page)
    assert shown_texts(page) == ["Added just now"]
