"""The workshop's data file, loaded the workshop's way, is served exactly, on DynamoDB's type rules.

The workshop stores `completed` as a BOOL and loads its file with `aws dynamodb
batch-write-item`. moto compares across types (a filter `completed = N 1` matches BOOL true),
DynamoDB and dynalite never do; these tests run on every backend, dynalite included, and compare
exact sets of ids. The raw items are read and written with the raw client on purpose: the
stored representation is what these tests are about.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from todo_service.sdk.client import open_client
from todo_service.settings import Settings

from .support.api import list_all
from .support.awscli import aws_cli, batch_write_file, run_aws
from .support.cli import run

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]
WORKSHOP_FILE = Path(__file__).parent / "fixtures" / "workshop" / "populate-dynamodb.json"


def workshop_items() -> list[dict[str, Any]]:
    requests = json.loads(WORKSHOP_FILE.read_text())["TodoTable"]
    return [request["PutRequest"]["Item"] for request in requests]


def workshop_file_for(table: str, tmp_path: Path) -> Path:
    """The workshop's file with the test's table name as its key, as a user would edit it."""
    path = tmp_path / "populate-dynamodb.json"
    path.write_text(json.dumps({table: json.loads(WORKSHOP_FILE.read_text())["TodoTable"]}))
    return path


def ids_where(completed: bool) -> set[int]:
    return {int(i["id"]["N"]) for i in workshop_items() if i["completed"]["BOOL"] is completed}


async def listed(api: Client, **query: str) -> list[dict[str, Any]]:
    """Every todo `GET /todos` lists for `query`, following its Link headers (3 a page)."""
    return await list_all(api, limit="3", **query)


async def listed_ids(api: Client, **query: str) -> set[int]:
    return {todo["id"] for todo in await listed(api, **query)}


async def raw_item(settings: Settings, todo_id: int) -> dict[str, Any]:
    async with open_client(settings.client_options()) as client:
        answer = await client.get_item(
            TableName=settings.table_name, Key={"id": {"N": str(todo_id)}}, ConsistentRead=True
        )
    return dict(answer["Item"])


async def check_served_exactly(api: Client, settings: Settings) -> None:
    """List, both filters, toggles, get, conditional patch and delete, on the loaded items."""
    everything = {int(item["id"]["N"]): item for item in workshop_items()}
    todos = await listed(api)
    assert {todo["id"] for todo in todos} == set(everything)
    for todo in todos:
        item = everything[todo["id"]]
        assert todo["text"] == item["text"]["S"]
        assert todo["completed"] is item["completed"]["BOOL"]
    done, open_ = ids_where(True), ids_where(False)
    assert await listed_ids(api, completed="true") == done
    assert await listed_ids(api, completed="false") == open_

    one_open, one_done = min(open_), min(done)
    for _ in range(2):
        for todo_id in (one_open, one_done):
            flipped = await api.post(f"/todos/{todo_id}/toggle")
            assert flipped.status == 200, await flipped.text()
        done, open_ = done ^ {one_open, one_done}, open_ ^ {one_open, one_done}
        assert await listed_ids(api, completed="true") == done
        assert await listed_ids(api, completed="false") == open_
        assert (await raw_item(settings, one_open))["completed"] == {"BOOL": one_open in done}

    # Items with no version yet are version 0 to If-Match.
    untouched = max(everything)
    got = await api.get(f"/todos/{untouched}")
    assert got.status == 200
    assert got.headers["ETag"] == '"0"'
    stale = await api.patch(f"/todos/{untouched}", json={"text": "x"}, headers={"If-Match": '"3"'})
    assert stale.status == 412
    patched = await api.patch(
        f"/todos/{untouched}", json={"completed": True}, headers={"If-Match": '"0"'}
    )
    assert patched.status == 200, await patched.text()
    assert patched.headers["ETag"] == '"1"'
    assert (await raw_item(settings, untouched))["completed"] == {"BOOL": True}
    assert untouched in await listed_ids(api, completed="true")
    deleted = await api.delete(f"/todos/{one_done}", headers={"If-Match": '"2"'})
    assert deleted.status == 204
    assert one_done not in await listed_ids(api)


async def test_the_workshop_file_loaded_with_the_aws_cli_is_served_exactly(
    api: Client, settings: Settings, tmp_path: Path
) -> None:
    aws_cli()
    assert settings.endpoint_url is not None
    batch_write_file(settings.endpoint_url, workshop_file_for(settings.table_name, tmp_path))
    scanned = run_aws(
        settings.endpoint_url, "dynamodb", "scan", "--table-name", settings.table_name
    )
    assert scanned["Count"] == len(workshop_items())
    assert all("BOOL" in item["completed"] for item in scanned["Items"])
    await check_served_exactly(api, settings)


async def test_the_workshop_file_loaded_with_todo_service_seed_is_served_exactly(
    api: Client, settings: Settings, tmp_path: Path
) -> None:
    assert settings.endpoint_url is not None
    loaded = run(
        "seed",
        str(workshop_file_for(settings.table_name, tmp_path)),
        AWS_ENDPOINT_URL_DYNAMODB=settings.endpoint_url,
        AWS_REGION=settings.region or "us-east-1",
        TODO_TABLE_NAME=settings.table_name,
    )
    assert loaded.returncode == 0, loaded.stderr
    await check_served_exactly(api, settings)


async def test_todos_the_service_writes_store_completed_as_a_bool(
    api: Client, settings: Settings
) -> None:
    created = await (await api.post("/todos", json={"text": "mine"})).json()
    assert (await raw_item(settings, created["id"]))["completed"] == {"BOOL": False}
    await api.post(f"/todos/{created['id']}/toggle")
    assert (await raw_item(settings, created["id"]))["completed"] == {"BOOL": True}
    await api.patch(f"/todos/{created['id']}", json={"completed": False})
    assert (await raw_item(settings, created["id"]))["completed"] == {"BOOL": False}


@pytest.mark.parametrize("legacy", [True, False], ids=["legacy-N-1", "legacy-N-0"])
async def test_a_legacy_numeric_flag_reads_filters_and_toggles_to_a_bool(
    api: Client, settings: Settings, legacy: bool
) -> None:
    async with open_client(settings.client_options()) as client:
        await client.put_item(
            TableName=settings.table_name,
            Item={"id": {"N": "41"}, "text": {"S": "old"}, "completed": {"N": str(int(legacy))}},
        )
    assert (await (await api.get("/todos/41")).json())["completed"] is legacy
    assert await listed_ids(api, completed=str(legacy).lower()) == {41}
    assert await listed_ids(api, completed=str(not legacy).lower()) == set()
    toggled = await api.post("/todos/41/toggle")
    assert (await toggled.json())["completed"] is not legacy
    assert (await raw_item(settings, 41))["completed"] == {"BOOL": not legacy}
    assert await listed_ids(api, completed=str(not legacy).lower()) == {41}


async def test_a_todo_with_no_completed_attribute_is_open_and_toggles(
    api: Client, settings: Settings
) -> None:
    async with open_client(settings.client_options()) as client:
        await client.put_item(
            TableName=settings.table_name, Item={"id": {"N": "5"}, "text": {"S": "bare"}}
        )
    assert await listed_ids(api, completed="false") == {5}
    assert (await (await api.post("/todos/5/toggle")).json())["completed"] is True
    assert await listed_ids(api, completed="true") == {5}


async def test_toggling_an_open_todo_is_one_update_item(api: Client) -> None:
    todo = await (await api.post("/todos", json={"text": "one call"})).json()

    async def calls() -> dict[str, float]:
        text = await (await api.get("/metrics")).text()
        counted: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("todo_dynamodb_calls_total{"):
                name, value = line.rsplit(" ", 1)
                counted[name.split('"')[1]] = float(value)
        return counted

    before = await calls()
    for expected in (True, False, True):
        toggled = await api.post(f"/todos/{todo['id']}/toggle")
        assert (await toggled.json())["completed"] is expected
    after = await calls()
    spent = {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}
    assert spent == {"UpdateItem": 3}


async def test_toggle_of_a_missing_todo_is_404_and_creates_nothing(api: Client) -> None:
    response = await api.post("/todos/123456/toggle")
    assert response.status == 404
    assert await listed_ids(api) == set()
