"""The seed loader: the shipped data file, big files, and bad files that must write nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from todo_service.sdk.client import open_client
from todo_service.settings import Settings
from todo_service.store.seed import SeedFileError, load_file
from todo_service.store.todos import TodoRepository

from .support.api import list_all
from .support.seedfiles import put, write_seed_file

ROOT = Path(__file__).resolve().parents[1]
DATA_FILE = ROOT / "data" / "populate-dynamodb.json"
Client = TestClient[Any, Any]


async def count_items(repository: TodoRepository) -> int:
    total, after = 0, None
    while True:
        page = await repository.list(100, after, None)
        total += len(page.todos)
        if page.last_id is None:
            return total
        after = page.last_id


async def load(settings: Settings, path: Path, **kwargs: Any) -> Any:
    async with open_client(settings.client_options()) as client:
        return await load_file(client, path, settings.table_name, progress=False, **kwargs)


def test_shipped_data_file_is_a_dozen_todos_the_aws_cli_can_send_in_one_call() -> None:
    requests = json.loads(DATA_FILE.read_text())["TodoTable"]
    # `aws dynamodb batch-write-item` sends the file as one call: at most 25 requests.
    assert 10 <= len(requests) <= 25
    assert all(set(r) == {"PutRequest"} for r in requests)


async def test_data_file_loaded_raw_like_the_aws_cli_works_with_every_route(
    settings: Settings, api: Client
) -> None:
    # Exactly what `aws dynamodb batch-write-item --request-items file://...` sends.
    request_items = json.loads(DATA_FILE.read_text().replace("TodoTable", settings.table_name))
    async with open_client(settings.client_options()) as client:
        answer = await client.batch_write_item(RequestItems=request_items)
    assert answer["UnprocessedItems"] == {}
    listed = await list_all(api)
    assert len(listed) == 12
    first = min(listed, key=lambda t: t["id"])
    toggled = await (await api.post(f"/todos/{first['id']}/toggle")).json()
    assert toggled["completed"] is not first["completed"]
    patched = await api.patch(f"/todos/{first['id']}", json={"text": "edited"})
    assert (await patched.json())["text"] == "edited"
    assert (await api.delete(f"/todos/{first['id']}")).status == 204
    assert len(await list_all(api)) == 11


async def test_seed_of_3000_items_lands_all_3000(
    settings: Settings, repository: TodoRepository, tmp_path: Path
) -> None:
    path = write_seed_file(
        tmp_path / "many.json", settings.table_name, [put(n, f"todo {n}") for n in range(1, 3001)]
    )
    result = await load(settings, path, concurrency=8)
    assert (result.puts, result.deletes) == (3000, 0)
    assert await count_items(repository) == 3000
    assert (await repository.get(2999)).text == "todo 2999"


async def test_seed_normalizes_bool_completed_and_applies_deletes(
    settings: Settings, repository: TodoRepository, tmp_path: Path
) -> None:
    done = put(1, "done")
    done["PutRequest"]["Item"]["completed"] = {"BOOL": True}
    path = write_seed_file(tmp_path / "mixed.json", settings.table_name, [done, put(2, "gone")])
    await load(settings, path)
    delete = {"DeleteRequest": {"Key": {"id": {"N": "2"}}}}
    result = await load(
        settings, write_seed_file(tmp_path / "del.json", settings.table_name, [delete])
    )
    assert result.deletes == 1
    assert (await repository.toggle(1)).completed is False
    assert await count_items(repository) == 1


def bad(item_changes: dict[str, Any], drop: str | None = None) -> dict[str, Any]:
    request = put(999, "bad one")
    item = request["PutRequest"]["Item"]
    item.update(item_changes)
    if drop:
        del item[drop]
    return request


BAD_REQUESTS = {
    "missing id": (bad({}, drop="id"), "[100].PutRequest.Item: missing the key attribute id"),
    "id as string type": (bad({"id": {"S": "5"}}), '[100].PutRequest.Item.id: expected {"N"'),
    "id not a number": (bad({"id": {"N": "five"}}), "[100].PutRequest.Item.id"),
    "id zero": (bad({"id": {"N": "0"}}), "from 1 to"),
    "id beyond 2^53": (bad({"id": {"N": str(2**53)}}), "from 1 to"),
    "text as number": (bad({"text": {"N": "5"}}), '[100].PutRequest.Item.text: expected {"S"'),
    "empty text": (bad({"text": {"S": "  "}}), "must not be empty"),
    "completed 2": (bad({"completed": {"N": "2"}}), "[100].PutRequest.Item.completed"),
    "unknown attribute": (bad({"owner": {"S": "me"}}), "unknown attribute(s) owner"),
    "bad timestamp": (bad({"createdAt": {"S": "yesterday"}}), "not an ISO-8601"),
    "duplicate id": (put(7, "again"), "id 7 already appears at"),
    "not a request": ({"PutRequest": {}}, "[100].PutRequest: expected an object with exactly Item"),
    "unknown request": ({"UpdateRequest": {}}, "[100]: expected"),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
async def test_seed_file_with_one_bad_request_at_the_end_writes_nothing(
    settings: Settings, repository: TodoRepository, tmp_path: Path, case: str
) -> None:
    request, message = BAD_REQUESTS[case]
    good = [put(n, f"fine {n}") for n in range(1, 101)]
    path = write_seed_file(tmp_path / "bad.json", settings.table_name, [*good, request])
    with pytest.raises(SeedFileError) as error:
        await load(settings, path)
    assert message in str(error.value)
    assert await count_items(repository) == 0


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ('{"$TABLE": [$GOOD, ', "not valid JSON"),
        ('{"$TABLE": [$GOOD] garbage', "not valid JSON"),
        ("{nope", "not valid JSON"),
        ("[$GOOD]", "must be a JSON object"),
        ('{"OtherTable": [$GOOD]}', "writes to table 'OtherTable'"),
        ('{"$TABLE": {}}', "expected a list of write requests"),
    ],
)
async def test_malformed_seed_file_is_refused_and_writes_nothing(
    settings: Settings, repository: TodoRepository, tmp_path: Path, template: str, message: str
) -> None:
    path = tmp_path / "broken.json"
    content = template.replace("$TABLE", settings.table_name)
    path.write_text(content.replace("$GOOD", json.dumps(put(1, "fine"))))
    with pytest.raises(SeedFileError) as error:
        await load(settings, path)
    assert message in str(error.value)
    assert await count_items(repository) == 0


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": settings.endpoint_url or "",
        "AWS_REGION": settings.region or "",
        "TODO_TABLE_NAME": settings.table_name,
    }
    return subprocess.run(
        [sys.executable, "-m", "todo_service", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


async def test_cli_seed_reports_the_count_and_a_bad_file_exits_2(
    settings: Settings, repository: TodoRepository, tmp_path: Path
) -> None:
    good = write_seed_file(tmp_path / "good.json", settings.table_name, [put(1, "a"), put(2, "b")])
    done = run_cli(settings, "seed", str(good))
    assert done.returncode == 0, done.stderr
    assert "2 put, 0 deleted" in done.stdout
    broken = write_seed_file(tmp_path / "bad.json", settings.table_name, [put(3, "c"), {"x": 1}])
    failed = run_cli(settings, "seed", str(broken))
    assert failed.returncode == 2
    assert f"{settings.table_name}[1]" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert await count_items(repository) == 2


async def test_cli_create_table_is_idempotent(settings: Settings) -> None:
    again = run_cli(settings, "create-table")
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout
