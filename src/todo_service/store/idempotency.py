"""Idempotency records on their own table: the claim, the record, its completion.

Modelled on the persistence layer of aws-powertools for Python's idempotency utility
(`save_inprogress`, `save_success`, `get_record` over a record with a status and an expiry):
the first request with a key claims it with one conditional put, later ones read the record.
Unlike powertools the record is created knowing the todo it will make (`todoId`), so that a
claimant that died half-way is completed by its retry with the same id (see
`TodoRepository.create_once`), and only single-item conditional writes are used, since
dynalite has no transactions.

Idempotency record::

    idempotencyKey S  SHA-256 of the client's Idempotency-Key, after the owner's `sub` and a
                      newline when there is an owner (the partition key)
    todoId     N   the id this key's todo has (or will have)
    text, createdAt    the todo as it is (or will be) created
    fingerprint S  SHA-256 of the text, to refuse the same key with another body
    done       BOOL the todo exists (powertools' COMPLETED); false while in progress
    expiresAt  N   epoch seconds; DynamoDB's time to live removes the record after it
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from todo_service.domain.todo import Todo
from todo_service.store.calls import put_item, update_item
from todo_service.store.expressions import Expression
from todo_service.store.table import (
    IDEMPOTENCY_PARTITION_KEY,
    IDEMPOTENCY_TTL_ATTRIBUTE,
    IDEMPOTENCY_TTL_S,
)

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    todo: Todo
    fingerprint: str
    # Whether the todo was created (powertools' COMPLETED status); else still in progress.
    done: bool

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> IdempotencyRecord:
        created_at = item["createdAt"]["S"]
        todo = Todo(
            id=int(item["todoId"]["N"]),
            text=item["text"]["S"],
            completed=False,
            created_at=created_at,
            updated_at=created_at,
            version=1,
        )
        return cls(todo, item["fingerprint"]["S"], bool(item["done"]["BOOL"]))


class IdempotencyStore:
    """The records of one idempotency table; every method is one or two DynamoDB calls."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self.table = table_name

    @staticmethod
    def key_of(idempotency_key: str, owner: str | None = None) -> dict[str, Any]:
        """The record's key: the client's key alone, or scoped to its owner, so that two users
        who happen to send the same key never share a record (nor replay each other's todo)."""
        scoped = idempotency_key if owner is None else f"{owner}\n{idempotency_key}"
        return {IDEMPOTENCY_PARTITION_KEY: {"S": digest(scoped)}}

    async def claim(
        self, key: dict[str, Any], todo: Todo, fingerprint: str
    ) -> tuple[IdempotencyRecord, bool] | None:
        """Save an in-progress record for `todo` unless a live one has the key.

        Our new record and True, or the live record of an earlier request and False (True
        again if that record is our own first attempt, whose answer was lost); None if the
        record expired and vanished between our put and our read.
        """
        now_s = int(time.time())
        record_item = {
            **key,
            "todoId": {"N": str(todo.id)},
            "text": {"S": todo.text},
            "createdAt": {"S": todo.created_at},
            "fingerprint": {"S": fingerprint},
            "done": {"BOOL": False},
            IDEMPOTENCY_TTL_ATTRIBUTE: {"N": str(now_s + IDEMPOTENCY_TTL_S)},
        }
        # Time to live deletes lazily (within days): an expired record is free to take.
        free = Expression(
            "attribute_not_exists(#key) OR #expires < :now",
            {"#key": IDEMPOTENCY_PARTITION_KEY, "#expires": IDEMPOTENCY_TTL_ATTRIBUTE},
            {":now": {"N": str(now_s)}},
        )
        if (await put_item(self._client, self.table, record_item, free)).applied:
            return IdempotencyRecord(todo, fingerprint, done=False), True
        # Someone's record holds the key; ours, if botocore's retry found our first attempt.
        record = await self.get(key)
        if record is None:
            return None
        return record, record.todo.id == todo.id

    async def get(self, key: dict[str, Any]) -> IdempotencyRecord | None:
        answer = await self._client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        item = answer.get("Item")
        return None if item is None else IdempotencyRecord.of(item)

    async def repoint(self, key: dict[str, Any], taken_id: int, fresh_id: int) -> None:
        """Point an in-progress record whose id another todo holds at a fresh id.

        If the condition fails, another request re-pointed the record first; the caller reads
        it again either way.
        """
        await update_item(
            self._client,
            self.table,
            key,
            Expression("SET todoId = :fresh", values={":fresh": {"N": str(fresh_id)}}),
            Expression(
                "todoId = :taken AND #done = :false",
                {"#done": "done"},
                {":taken": {"N": str(taken_id)}, ":false": {"BOOL": False}},
            ),
        )

    async def complete(self, key: dict[str, Any], todo_id: int) -> bool:
        """Mark the record done; False if it was re-pointed meanwhile (start over from it)."""
        marked = await update_item(
            self._client,
            self.table,
            key,
            Expression("SET #done = :true", {"#done": "done"}, {":true": {"BOOL": True}}),
            Expression("todoId = :id", values={":id": {"N": str(todo_id)}}),
        )
        return marked.applied
