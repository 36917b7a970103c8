"""The list: a Scan that follows DynamoDB's pages until the API's page is full."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Final

from todo_service.domain.todo import Todo
from todo_service.store import items
from todo_service.store.table import PARTITION_KEY

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

# When the list is filtered, DynamoDB's Limit counts items read, not items matched: read a
# wider page so that a selective filter does not cost one round trip per few todos.
FILTERED_SCAN_LIMIT: Final = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    todos: list[Todo]
    # The id to start the next page after, or None when the scan has reached the end.
    last_id: int | None


async def scan_page(
    client: DynamoDBClient, table: str, limit: int, after_id: int | None, completed: bool | None
) -> Page:
    """Up to `limit` todos after `after_id`, following DynamoDB's pages as far as needed.

    A DynamoDB page ends at 1 MB or at `Limit` items read, and a filter can leave it short or
    empty; we keep reading until the page is full or the scan is done, so a short page always
    means the end. Reads are strongly consistent: a write shows in the next list.
    """
    params: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if completed is not None:
        params["FilterExpression"], params["ExpressionAttributeValues"] = items.filter_completed(
            completed
        )
    start_key = None if after_id is None else items.key(after_id)
    todos: list[Todo] = []
    while True:
        wanted = limit - len(todos)
        params["Limit"] = wanted if completed is None else max(wanted, FILTERED_SCAN_LIMIT)
        if start_key is not None:
            params["ExclusiveStartKey"] = start_key
        answer = await client.scan(**params)
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
