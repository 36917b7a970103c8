"""`seed`: load a file in the `aws dynamodb batch-write-item --request-items` format.

The file is read twice, streaming, so its size is bounded by the disk and not by memory:
first to validate every request (nothing is written if any is wrong), then to write them
in batches of 25 (BatchWriteItem's limit, which moto does not enforce, so we must), several
batches in flight, with `UnprocessedItems` retried under jittered exponential backoff.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import ijson
from tqdm import tqdm

from todo_service.domain.errors import InvalidInput
from todo_service.domain.todo import MAX_ID, clean_text, now_iso
from todo_service.store.table import PARTITION_KEY

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

BATCH_SIZE: Final = 25  # BatchWriteItem's hard limit per call
DEFAULT_CONCURRENCY: Final = 8
MAX_ATTEMPTS: Final = 10
BACKOFF_BASE_S: Final = 0.05
BACKOFF_CAP_S: Final = 5.0

_ATTRIBUTES: Final = ("id", "text", "completed", "createdAt", "updatedAt", "version")


class SeedFileError(ValueError):
    """The file is wrong; the message names the place. Nothing has been written."""


class SeedWriteError(RuntimeError):
    """Writing failed part-way; the message says how much was written."""


@dataclasses.dataclass(frozen=True, slots=True)
class SeedResult:
    puts: int
    deletes: int
    seconds: float


def _expect_number(where: str, value: Any, low: int, high: int) -> str:
    if not isinstance(value, dict) or set(value) != {"N"} or not isinstance(value["N"], str):
        raise SeedFileError(f'{where}: expected {{"N": "<whole number>"}}, got {value!r}')
    raw = value["N"].strip()
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise SeedFileError(f"{where}: expected a whole number from {low} to {high}, got {raw!r}")
    return str(int(raw))


def _expect_string(where: str, value: Any) -> str:
    if not isinstance(value, dict) or set(value) != {"S"} or not isinstance(value["S"], str):
        raise SeedFileError(f'{where}: expected {{"S": "<text>"}}, got {value!r}')
    return value["S"]


def _expect_timestamp(where: str, value: Any) -> str:
    raw = _expect_string(where, value)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise SeedFileError(f"{where}: {raw!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise SeedFileError(f"{where}: {raw!r} has no time zone (use Z for UTC)")
    return raw


def _expect_object(where: str, value: Any, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        wanted = ", ".join(sorted(keys))
        raise SeedFileError(f"{where}: expected an object with exactly {wanted}, got {value!r}")
    return value


def _item(where: str, item: Any, now: str) -> dict[str, Any]:
    """Validate one todo item and return it as we store it."""
    if not isinstance(item, dict):
        raise SeedFileError(f"{where}: expected an object of attributes, got {item!r}")
    unknown = sorted(set(item) - set(_ATTRIBUTES))
    if unknown:
        raise SeedFileError(
            f"{where}: unknown attribute(s) {', '.join(unknown)}; "
            f"a todo has {', '.join(_ATTRIBUTES)}"
        )
    if "id" not in item:
        raise SeedFileError(f"{where}: missing the key attribute id")
    if "text" not in item:
        raise SeedFileError(f"{where}: missing the attribute text")
    stored: dict[str, Any] = {"id": {"N": _expect_number(f"{where}.id", item["id"], 1, MAX_ID)}}
    try:
        stored["text"] = {"S": clean_text(_expect_string(f"{where}.text", item["text"]))}
    except InvalidInput as error:
        raise SeedFileError(f"{where}.text: {error.message}") from None
    completed = item.get("completed", {"BOOL": False})
    if isinstance(completed, dict) and set(completed) == {"BOOL"}:
        if not isinstance(completed["BOOL"], bool):
            raise SeedFileError(f"{where}.completed: BOOL must be true or false")
        stored["completed"] = {"BOOL": completed["BOOL"]}
    elif isinstance(completed, dict) and set(completed) == {"N"}:
        # The flag as earlier versions of this file stored it; stored as the BOOL now.
        legacy = _expect_number(f"{where}.completed", completed, 0, 1)
        stored["completed"] = {"BOOL": legacy == "1"}
    else:
        raise SeedFileError(
            f'{where}.completed: expected {{"BOOL": true|false}} (or a legacy {{"N": "0"|"1"}}), '
            f"got {completed!r}"
        )
    created_at = item.get("createdAt")
    stored["createdAt"] = {
        "S": now if created_at is None else _expect_timestamp(f"{where}.createdAt", created_at)
    }
    updated_at = item.get("updatedAt")
    stored["updatedAt"] = (
        stored["createdAt"]
        if updated_at is None
        else {"S": _expect_timestamp(f"{where}.updatedAt", updated_at)}
    )
    if "version" in item:
        stored["version"] = {"N": _expect_number(f"{where}.version", item["version"], 0, MAX_ID)}
    return stored


def _request(where: str, request: Any, now: str) -> dict[str, Any]:
    """Validate one write request and return it normalized."""
    if isinstance(request, dict) and set(request) == {"PutRequest"}:
        put = _expect_object(f"{where}.PutRequest", request["PutRequest"], {"Item"})
        return {"PutRequest": {"Item": _item(f"{where}.PutRequest.Item", put["Item"], now)}}
    if isinstance(request, dict) and set(request) == {"DeleteRequest"}:
        delete = _expect_object(f"{where}.DeleteRequest", request["DeleteRequest"], {"Key"})
        key = _expect_object(f"{where}.DeleteRequest.Key", delete["Key"], {PARTITION_KEY})
        todo_id = _expect_number(f"{where}.DeleteRequest.Key.id", key[PARTITION_KEY], 1, MAX_ID)
        return {"DeleteRequest": {"Key": {PARTITION_KEY: {"N": todo_id}}}}
    raise SeedFileError(
        f'{where}: expected {{"PutRequest": {{...}}}} or {{"DeleteRequest": {{...}}}}, '
        f"got {request!r}"
    )


def _request_id(request: dict[str, Any]) -> int:
    if "PutRequest" in request:
        return int(request["PutRequest"]["Item"][PARTITION_KEY]["N"])
    return int(request["DeleteRequest"]["Key"][PARTITION_KEY]["N"])


def _values(events: Iterator[tuple[str, str, Any]]) -> Iterator[Any]:
    """The elements of a JSON array whose start_array was just read, built one at a time."""
    for _, event, value in events:
        if event == "end_array":
            return
        builder = ijson.ObjectBuilder()
        builder.event(event, value)
        depth = 1 if event in ("start_map", "start_array") else 0
        while depth:
            _, event, value = next(events)
            builder.event(event, value)
            if event in ("start_map", "start_array"):
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1
        yield builder.value


def _requests(stream: IO[bytes], table_name: str) -> Iterator[dict[str, Any]]:
    """Every write request in the file, validated and normalized, in file order."""
    events = iter(ijson.parse(stream))
    now = now_iso()
    shape = f'the file must be a JSON object such as {{"{table_name}": [{{"PutRequest": ...}}]}}'
    first = next(events, None)
    if first is None or first[1] != "start_map":
        raise SeedFileError(shape)
    seen_table = False
    for _, event, value in events:
        if event == "end_map":
            break
        # Only map_key can follow at the top level: ijson has checked the JSON grammar.
        if value != table_name:
            raise SeedFileError(
                f"the file writes to table {value!r}, but the table is {table_name!r} "
                "(set TODO_TABLE_NAME, or fix the file)"
            )
        if seen_table:
            raise SeedFileError(f"table {table_name!r} appears twice in the file")
        seen_table = True
        _, event, _ = next(events)
        if event != "start_array":
            raise SeedFileError(f"{table_name}: expected a list of write requests")
        for index, request in enumerate(_values(events)):
            yield _request(f"{table_name}[{index}]", request, now)
    if next(events, None) is not None:
        raise SeedFileError("unexpected content after the top-level object")


def _open(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as error:
        raise SeedFileError(f"cannot read {path}: {error.strerror}") from None


def validate_file(path: Path, table_name: str) -> int:
    """Read the whole file and check every request; return how many there are."""
    first_seen: dict[int, int] = {}
    with _open(path) as stream:
        try:
            for index, request in enumerate(_requests(stream, table_name)):
                todo_id = _request_id(request)
                if todo_id in first_seen:
                    # BatchWriteItem refuses duplicate keys in one batch, and across batches
                    # the later write would silently win: neither is what the author meant.
                    raise SeedFileError(
                        f"{table_name}[{index}]: id {todo_id} already appears at "
                        f"{table_name}[{first_seen[todo_id]}]"
                    )
                first_seen[todo_id] = index
        except ijson.JSONError as error:
            raise SeedFileError(f"{path} is not valid JSON: {error}") from None
    return len(first_seen)


def _batches(path: Path, table_name: str) -> Iterator[list[dict[str, Any]]]:
    with _open(path) as stream:
        batch: list[dict[str, Any]] = []
        for request in _requests(stream, table_name):
            batch.append(request)
            if len(batch) == BATCH_SIZE:
                yield batch
                batch = []
        if batch:
            yield batch


async def _write_batch(
    client: DynamoDBClient, table_name: str, batch: list[dict[str, Any]]
) -> None:
    pending = batch
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            # Full jitter: spreads the retries of concurrent batches instead of syncing them.
            await asyncio.sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))
        answer = await client.batch_write_item(RequestItems={table_name: pending})  # type: ignore[dict-item]
        pending = [dict(r) for r in answer.get("UnprocessedItems", {}).get(table_name, [])]
        if not pending:
            return
    raise SeedWriteError(
        f"{len(pending)} requests were still unprocessed after {MAX_ATTEMPTS} attempts"
    )


async def load_file(
    client: DynamoDBClient,
    path: Path,
    table_name: str,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool | None = None,
) -> SeedResult:
    """Validate the whole file, then write it. Raises SeedFileError before any write."""
    started = time.perf_counter()
    total = validate_file(path, table_name)
    show = sys.stderr.isatty() if progress is None else progress
    counts = {"PutRequest": 0, "DeleteRequest": 0}
    queue: asyncio.Queue[list[dict[str, Any]] | None] = asyncio.Queue(maxsize=concurrency * 2)

    with tqdm(total=total, unit="item", disable=not show, file=sys.stderr) as bar:

        async def worker() -> None:
            while (batch := await queue.get()) is not None:
                await _write_batch(client, table_name, batch)
                for request in batch:
                    counts[next(iter(request))] += 1
                bar.update(len(batch))

        try:
            # A failing worker makes the TaskGroup cancel the producer and the other workers.
            async with asyncio.TaskGroup() as group:
                workers = [group.create_task(worker()) for _ in range(concurrency)]
                for batch in _batches(path, table_name):
                    await queue.put(batch)
                for _ in workers:
                    await queue.put(None)
        except ExceptionGroup as failures:
            error = failures.exceptions[0]
            written = counts["PutRequest"] + counts["DeleteRequest"]
            raise SeedWriteError(
                f"writing stopped after {written} of {total} requests: {error}"
            ) from error
    return SeedResult(counts["PutRequest"], counts["DeleteRequest"], time.perf_counter() - started)
