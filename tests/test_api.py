"""The HTTP API, route by route and error by error, against a real DynamoDB-protocol server."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from aiohttp import web

from todo_service.app import create_app
from todo_service.domain.todo import MAX_ID
from todo_service.logs import JsonFormatter
from todo_service.sdk.client import open_client
from todo_service.settings import Settings
from todo_service.store.provisioning import ensure_table

from .support.api import Client, all_ids, assert_error, create, next_cursor

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_root_is_the_workshop_health_message(api: Client) -> None:
    response = await api.get("/")
    assert response.status == 200
    assert "health check" in (await response.json())["message"]


async def test_healthz_and_readyz_answer_when_table_is_there(api: Client) -> None:
    assert (await (await api.get("/healthz")).json()) == {"status": "ok"}
    response = await api.get("/readyz")
    assert response.status == 200
    assert (await response.json()) == {"status": "ready"}


async def test_create_returns_201_location_etag_and_the_todo_shape(api: Client) -> None:
    response = await api.post("/todos", json={"text": "  Water the plants  "})
    assert response.status == 201
    todo = await response.json()
    assert set(todo) == {"id", "text", "completed", "createdAt", "updatedAt"}
    assert todo["text"] == "Water the plants"
    assert todo["completed"] is False
    assert isinstance(todo["id"], int)
    assert 0 < todo["id"] <= MAX_ID
    assert ISO_UTC.match(todo["createdAt"])
    assert todo["createdAt"] == todo["updatedAt"]
    assert response.headers["Location"] == f"/todos/{todo['id']}"
    assert response.headers["ETag"] == '"1"'
    fetched = await api.get(response.headers["Location"])
    assert fetched.status == 200
    assert await fetched.json() == todo


async def test_list_is_a_bare_array_of_the_created_todos_with_no_link_at_the_end(
    api: Client,
) -> None:
    first, second = await create(api, "one"), await create(api, "two")
    response = await api.get("/todos")
    assert response.status == 200
    assert "Link" not in response.headers
    body = await response.json()
    assert sorted(body, key=lambda t: t["id"]) == sorted([first, second], key=lambda t: t["id"])
    assert set(body[0]) == {"id", "text", "completed", "createdAt", "updatedAt"}


async def test_a_full_page_links_to_the_next_keeping_limit_and_filter(api: Client) -> None:
    for text in ("a", "b", "c"):
        await create(api, text)
    response = await api.get("/todos", params={"limit": "2", "completed": "false"})
    assert len(await response.json()) == 2
    link = response.headers["Link"]
    assert re.fullmatch(r'</todos\?limit=2&completed=false&cursor=[\w-]+>; rel="next"', link)
    rest = await api.get(link[1 : link.index(">")])
    assert len(await rest.json()) == 1
    assert "Link" not in rest.headers


async def test_the_default_page_is_100_and_limit_accepts_1_to_1000(api: Client) -> None:
    await asyncio.gather(*(create(api, f"todo {n}") for n in range(101)))
    default = await api.get("/todos")
    assert len(await default.json()) == 100
    assert "Link" in default.headers
    widest = await api.get("/todos", params={"limit": "1000"})
    assert len(await widest.json()) == 101
    assert "Link" not in widest.headers
    await assert_error(await api.get("/todos", params={"limit": "1001"}), 400, "invalid_request")


async def test_list_of_empty_table_is_empty(api: Client) -> None:
    response = await api.get("/todos")
    assert await response.json() == []
    assert "Link" not in response.headers


async def test_toggle_flips_and_flips_back(api: Client) -> None:
    todo = await create(api)
    response = await api.post(f"/todos/{todo['id']}/toggle")
    assert response.status == 200
    toggled = await response.json()
    assert toggled["completed"] is True
    assert toggled["updatedAt"] >= todo["updatedAt"]
    assert response.headers["ETag"] == '"2"'
    again = await (await api.post(f"/todos/{todo['id']}/toggle")).json()
    assert again["completed"] is False
    assert (await (await api.get(f"/todos/{todo['id']}")).json())["completed"] is False


async def test_patch_sets_text_and_completed(api: Client) -> None:
    todo = await create(api)
    response = await api.patch(
        f"/todos/{todo['id']}", json={"text": " Buy oat milk ", "completed": True}
    )
    assert response.status == 200
    patched = await response.json()
    assert patched["text"] == "Buy oat milk"
    assert patched["completed"] is True
    assert patched["createdAt"] == todo["createdAt"]
    only_completed = await (
        await api.patch(f"/todos/{todo['id']}", json={"completed": False})
    ).json()
    assert only_completed == {
        **patched,
        "completed": False,
        "updatedAt": only_completed["updatedAt"],
    }


async def test_delete_is_204_then_404(api: Client) -> None:
    todo = await create(api)
    response = await api.delete(f"/todos/{todo['id']}")
    assert response.status == 204
    assert await response.read() == b""
    await assert_error(await api.get(f"/todos/{todo['id']}"), 404, "not_found")
    await assert_error(await api.delete(f"/todos/{todo['id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"completed": True}),
        ("POST", "/toggle", None),
        ("DELETE", "", None),
    ],
)
async def test_route_on_missing_todo_is_404_and_creates_nothing(
    api: Client, method: str, suffix: str, body: Any
) -> None:
    await assert_error(
        await api.request(method, f"/todos/424242{suffix}", json=body), 404, "not_found", "424242"
    )
    assert await all_ids(api) == set()


@pytest.mark.parametrize(
    "raw_id", ["abc", "0", "-1", "1.5", "1e3", "007", str(MAX_ID + 1), "99999999999999999999"]
)
async def test_non_id_path_is_404_and_touches_nothing(api: Client, raw_id: str) -> None:
    todo = await create(api)
    await assert_error(await api.get(f"/todos/{raw_id}"), 404, "not_found", "whole number")
    await assert_error(await api.post(f"/todos/{raw_id}/toggle"), 404, "not_found")
    await assert_error(await api.delete(f"/todos/{raw_id}"), 404, "not_found")
    assert await all_ids(api) == {todo["id"]}


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        (b"{", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"text": "a"} trailing', "not valid JSON"),
        (b"[]", "Expected `object`"),
        (b'{"text": 5}', "Expected `str`"),
        (b'{"text": null}', "Expected `str`"),
        (b"{}", "missing required field `text`"),
        (b'{"text": "a", "owner": "me"}', "unknown field `owner`"),
        (b'{"text": "   "}', "must not be empty"),
        (b'{"text": "' + b"x" * 1001 + b'"}', "at most 1000"),
        (b'{"text": "a\\u0007b"}', "control character"),
        (b'{"text": "a\\ud800b"}', "not valid JSON"),
        (b'{"text": NaN}', "not valid JSON"),
    ],
)
async def test_bad_create_body_is_400_and_creates_nothing(
    api: Client, body: bytes, message_part: str
) -> None:
    response = await api.post("/todos", data=body, headers={"Content-Type": "application/json"})
    await assert_error(response, 400, "invalid_request", message_part)
    assert await all_ids(api) == set()


async def test_text_of_exactly_1000_characters_after_trimming_is_accepted(api: Client) -> None:
    todo = await create(api, "  " + "é" * 1000 + "  ")
    assert todo["text"] == "é" * 1000


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        (b"{}", "at least one of text and completed"),
        (b'{"completed": "yes"}', "Expected `bool`"),
        (b'{"completed": 1}', "Expected `bool`"),
        (b'{"text": ""}', "must not be empty"),
        (b'{"id": 5}', "unknown field `id`"),
    ],
)
async def test_bad_patch_body_is_400_and_changes_nothing(
    api: Client, body: bytes, message_part: str
) -> None:
    todo = await create(api)
    response = await api.patch(
        f"/todos/{todo['id']}", data=body, headers={"Content-Type": "application/json"}
    )
    await assert_error(response, 400, "invalid_request", message_part)
    assert await (await api.get(f"/todos/{todo['id']}")).json() == todo


async def test_non_json_content_type_is_415(api: Client) -> None:
    response = await api.post("/todos", data="text=hi", headers={"Content-Type": "text/plain"})
    await assert_error(response, 415, "unsupported_media_type", "application/json")
    assert await all_ids(api) == set()


async def test_body_over_64_kib_is_413(api: Client) -> None:
    body = b'{"text": "' + b"x" * (64 * 1024) + b'"}'
    response = await api.post("/todos", data=body, headers={"Content-Type": "application/json"})
    await assert_error(response, 413, "payload_too_large")
    assert await all_ids(api) == set()


async def test_unknown_route_is_json_404_and_wrong_method_is_json_405(api: Client) -> None:
    await assert_error(await api.get("/nope"), 404, "not_found", "/nope")
    response = await api.put("/todos")
    await assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("query", "code", "message_part"),
    [
        ({"limit": "0"}, "invalid_request", "limit"),
        ({"limit": "1001"}, "invalid_request", "limit"),
        ({"limit": "ten"}, "invalid_request", "limit"),
        ({"completed": "yes"}, "invalid_request", "completed"),
        ({"cursor": "not a cursor!"}, "invalid_cursor", "malformed"),
        ({"sort": "id"}, "invalid_request", "sort"),
    ],
)
async def test_bad_list_query_is_400(
    api: Client, query: dict[str, str], code: str, message_part: str
) -> None:
    await assert_error(await api.get("/todos", params=query), 400, code, message_part)


async def test_tampered_cursor_is_400(api: Client) -> None:
    for text in ("a", "b", "c"):
        await create(api, text)
    cursor = next_cursor((await api.get("/todos", params={"limit": "1"})).headers)
    assert cursor
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    await assert_error(
        await api.get("/todos", params={"cursor": tampered}), 400, "invalid_cursor", "altered"
    )


async def test_readyz_is_503_with_retry_after_when_table_is_missing(
    api: Client, settings: Settings
) -> None:
    async with open_client(settings.client_options()) as client:
        await client.delete_table(TableName=settings.table_name)
    try:
        response = await api.get("/readyz")
        await assert_error(response, 503, "backend_unavailable", settings.table_name)
        assert response.headers["Retry-After"] == "1"
        await assert_error(await api.get("/todos"), 503, "backend_unavailable")
    finally:
        async with open_client(settings.client_options()) as client:
            await ensure_table(client, settings.table_name)


async def test_every_response_carries_a_request_id_and_echoes_a_safe_one(api: Client) -> None:
    response = await api.get("/todos", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    generated = await api.get("/nope", headers={"X-Request-ID": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["X-Request-ID"])


async def test_etag_if_match_guards_patch_and_delete(api: Client) -> None:
    todo = await create(api)
    path = f"/todos/{todo['id']}"
    stale = await api.patch(path, json={"completed": True}, headers={"If-Match": '"7"'})
    await assert_error(stale, 412, "precondition_failed", "version 1")
    fresh = await api.patch(path, json={"completed": True}, headers={"If-Match": '"1"'})
    assert fresh.status == 200
    assert fresh.headers["ETag"] == '"2"'
    await assert_error(
        await api.delete(path, headers={"If-Match": '"1"'}), 412, "precondition_failed"
    )
    assert (await api.delete(path, headers={"If-Match": '"2"'})).status == 204


async def test_toggle_works_on_an_item_put_by_hand_with_a_bool_completed(
    api: Client, settings: Settings
) -> None:
    # The raw item is the point here: what someone might put with the AWS CLI.
    async with open_client(settings.client_options()) as client:
        await client.put_item(
            TableName=settings.table_name,
            Item={"id": {"N": "77"}, "text": {"S": "by hand"}, "completed": {"BOOL": True}},
        )
    first = await api.post("/todos/77/toggle")
    assert first.status == 200, await first.text()
    assert (await first.json())["completed"] is False
    second = await (await api.post("/todos/77/toggle")).json()
    assert second["completed"] is True
    async with open_client(settings.client_options()) as client:
        item = (await client.get_item(TableName=settings.table_name, Key={"id": {"N": "77"}}))[
            "Item"
        ]
    assert item["completed"] == {"BOOL": True}


async def test_unexpected_error_is_json_500_with_a_request_id_that_is_logged(
    settings: Settings, aiohttp_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("secret internal detail")

    app.router.add_get("/broken", broken)
    api = await aiohttp_client(app)
    response = await api.get("/broken")
    assert response.status == 500
    body = await response.json()
    request_id = body["error"]["requestId"]
    assert request_id == response.headers["X-Request-ID"]
    assert "secret internal detail" not in await response.text()
    assert "Traceback" not in await response.text()
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert any(getattr(r, "exc_info", None) for r in logged)
    assert any(request_id in JsonFormatter().format(r) for r in logged)


async def test_a_body_with_a_member_named_twice_is_400_and_creates_nothing(api: Client) -> None:
    response = await api.post(
        "/todos",
        data=b'{"text": "one: a", "text": "two: b"}',
        headers={"Content-Type": "application/json"},
    )
    await assert_error(response, 400, "invalid_request", "'text' appears twice")
    assert await all_ids(api) == set()
    # Colons in the text are not members: such a body is checked and accepted.
    assert (await create(api, "Meeting: 10:00"))["text"] == "Meeting: 10:00"
