"""The list: DynamoDB's pages followed until the API's page is full.

With TODO_AUTH=none the list is a Scan of the table, in DynamoDB's order, strongly
consistent. With an owner it is a Query on the owner index (store/table.py), newest first
(ids grow with time), so a user's pages are stable and meaningful and no Scan runs. A global
secondary index is read eventually consistently (DynamoDB offers nothing else on one): a todo
written a moment ago may be missing from the list, never from a get.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from todo_service.domain.todo import Todo
from todo_service.store import items
from todo_service.store.expressions import Expression, placeholders
from todo_service.store.table import OWNER_ATTRIBUTE, OWNER_INDEX, PARTITION_KEY

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

# When the list is filtered, DynamoDB's Limit counts items read, not items matched: read a
# wider page so that a selective filter does not cost one round trip per few todos.
FILTERED_READ_LIMIT: Final = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    todos: list[Todo]
    # The id to start the next page after, or None when the list has reached the end.
    last_id: int | None


async def scan_page(
    client: DynamoDBClient, table: str, limit: int, after_id: int | None, completed: bool | None
) -> Page:
    """Up to `limit` of all todos after `after_id`; strongly consistent."""
    base = {"TableName": table, "ConsistentRead": True}
    start_key = None if after_id is None else items.key(after_id)
    return await _fill(client, base, None, limit, start_key, completed)


async def query_page(
    client: DynamoDBClient,
    table: str,
    owner: str,
    limit: int,
    after_id: int | None,
    completed: bool | None,
) -> Page:
    """Up to `limit` of `owner`'s todos older than `after_id`, newest first."""
    base = {"TableName": table, "IndexName": OWNER_INDEX, "ScanIndexForward": False}
    owner_key = {OWNER_ATTRIBUTE: items.owner_value(owner)}
    start_key = None if after_id is None else {**items.key(after_id), **owner_key}
    return await _fill(client, base, items.owner_is(owner), limit, start_key, completed)


async def _fill(
    client: DynamoDBClient,
    base: Mapping[str, Any],
    key_condition: Expression | None,
    limit: int,
    start_key: Mapping[str, Any] | None,
    completed: bool | None,
) -> Page:
    """Read pages until `limit` todos are found or the reads are done.

    A DynamoDB page ends at 1 MB or at `Limit` items read, and a filter can leave it short or
    empty; we keep reading until the page is full or the reads are done, so a short page always
    means the end. With a key condition the reads are a Query, else a Scan.
    """
    used = [items.LISTED]
    params: dict[str, Any] = {**base, "ProjectionExpression": items.LISTED.text}
    if key_condition is not None:
        params["KeyConditionExpression"] = key_condition.text
        used.append(key_condition)
    if completed is not None:
        state = items.filter_completed(completed)
        params["FilterExpression"] = state.text
        used.append(state)
    params.update(placeholders(*used))
    todos: list[Todo] = []
    while True:
        wanted = limit - len(todos)
        params["Limit"] = wanted if completed is None else max(wanted, FILTERED_READ_LIMIT)
        if start_key is not None:
            params["ExclusiveStartKey"] = start_key
        answer = await (client.scan(**params) if key_condition is None else client.query(**params))
        page_items = answer.get("Items", [])
        todos.extend(items.to_todo(item) for item in page_items[:wanted])
        if len(page_items) > wanted:
            # We stopped inside DynamoDB's page: resume right after the last todo sent.
            return Page(todos, todos[-1].id)
        start_key = answer.get("LastEvaluatedKey")
        if start_key is None:
            return Page(todos, None)
        if len(todos) == limit:
            return Page(todos, int(start_key[PARTITION_KEY]["N"]))
