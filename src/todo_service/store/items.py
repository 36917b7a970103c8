"""The stored todo item: its attributes, how a `Todo` becomes one and back, and its conditions.

Stored item::

    id         N     the partition key (see domain/ids.py)
    text       S
    completed  BOOL  as the workshop's data file and its service store it, so that its code,
                     the AWS CLI and the console all read a boolean. Items written by earlier
                     versions hold N 0/1 instead: they read, filter and toggle the same, and a
                     write that sets `completed` stores the BOOL.
    createdAt  S     ISO-8601 UTC
    updatedAt  S     ISO-8601 UTC
    version    N     bumped by every write; the ETag and the optimistic-concurrency guard.
                     Items loaded by hand may have none: they are version 0.
    idempotencyKey S only on todos created with an Idempotency-Key: the key's digest
    owner      S     only on todos created with TODO_AUTH=cognito: the creator's Cognito `sub`,
                     the partition key of the owner index (store/table.py)

A missing `completed` reads as false, missing timestamps as the Unix epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from todo_service.domain.todo import Todo
from todo_service.store.expressions import Expression, joined
from todo_service.store.table import OWNER_ATTRIBUTE, PARTITION_KEY

# Items loaded by hand may lack timestamps; they then show the Unix epoch.
EPOCH_ISO: Final = "1970-01-01T00:00:00.000Z"
TRUE: Final = {"BOOL": True}
FALSE: Final = {"BOOL": False}
# The flag as earlier versions stored it; still read, filtered and toggled.
LEGACY_TRUE: Final = {"N": "1"}
LEGACY_FALSE: Final = {"N": "0"}
ONE: Final = {"N": "1"}
ZERO: Final = {"N": "0"}
# Every write bumps the version; items loaded by hand start from 0.
BUMP_VERSION: Final = Expression(
    "version = if_not_exists(version, :zero) + :one", values={":zero": ZERO, ":one": ONE}
)
EXISTS: Final = Expression("attribute_exists(id)")
IS_NEW: Final = Expression("attribute_not_exists(id)")

# The conditions that hold when a todo is, or is not, completed, in either representation.
# DynamoDB never compares across types (a BOOL is not equal to N 1), so both are named.
IS_COMPLETED: Final = Expression(
    "(completed = :true OR completed = :legacy_true)",
    values={":true": TRUE, ":legacy_true": LEGACY_TRUE},
)
IS_OPEN: Final = Expression(
    "(attribute_not_exists(completed) OR completed = :false OR completed = :legacy_false)",
    values={":false": FALSE, ":legacy_false": LEGACY_FALSE},
)


# `owner` is one of DynamoDB's reserved words: expressions name it through this placeholder.
OWNER_NAME: Final = "#owner"
OWNER_NAMES: Final = {OWNER_NAME: OWNER_ATTRIBUTE}


# What a list reads of each item: what `to_todo` uses, and no more. Leaving out `owner` and
# `idempotencyKey` spares botocore parsing them on every item of every page (a real share of a
# page's client CPU with an owner: docs/performance.md). `text` is a DynamoDB reserved word.
LISTED: Final = Expression("id, #text, completed, createdAt, updatedAt, version", {"#text": "text"})


def key(todo_id: int) -> dict[str, Any]:
    return {PARTITION_KEY: {"N": str(todo_id)}}


def owner_value(owner: str) -> dict[str, str]:
    return {"S": owner}


def owned_by(item: Mapping[str, Any], owner: str | None) -> bool:
    """Whether `owner` may see the item: anyone may with no owner (TODO_AUTH=none)."""
    return owner is None or item.get(OWNER_ATTRIBUTE) == owner_value(owner)


def owner_is(owner: str) -> Expression:
    """The item is `owner`'s (a condition, or a Query's key condition on the owner index)."""
    return Expression(f"{OWNER_NAME} = :owner", OWNER_NAMES, {":owner": owner_value(owner)})


def owned(condition: Expression, owner: str | None) -> Expression:
    """`condition`, and with an owner also that the item is theirs.

    The write itself checks ownership: someone else's todo fails the same condition as a
    missing one, so it answers 404 with no read before the write and no hint that it exists.
    """
    return condition if owner is None else condition & owner_is(owner)


def written_at(item: Mapping[str, Any], now: str, owner: str | None) -> bool:
    """Whether `item` shows a write of ours made at `now` (our timestamp on it, and ours).

    After a lost answer botocore sends a write again; when the first attempt was applied, the
    retry's condition fails. The item then carries the first attempt's timestamp.
    """
    return owned_by(item, owner) and item.get("updatedAt") == {"S": now}


def completed_of(item: Mapping[str, Any]) -> bool:
    flag = item.get("completed")
    if flag is None:
        return False
    return flag.get("BOOL", flag.get("N") == "1") is True


def to_todo(item: Mapping[str, Any]) -> Todo:
    created_at = item.get("createdAt", {}).get("S", EPOCH_ISO)
    return Todo(
        id=int(item[PARTITION_KEY]["N"]),
        text=item.get("text", {}).get("S", ""),
        completed=completed_of(item),
        created_at=created_at,
        updated_at=item.get("updatedAt", {}).get("S", created_at),
        version=int(item.get("version", {}).get("N", "0")),
    )


def todo_item(todo: Todo, owner: str | None = None) -> dict[str, Any]:
    item = {
        **key(todo.id),
        "text": {"S": todo.text},
        "completed": TRUE if todo.completed else FALSE,
        "createdAt": {"S": todo.created_at},
        "updatedAt": {"S": todo.updated_at},
        "version": {"N": str(todo.version)},
    }
    if owner is not None:
        item[OWNER_ATTRIBUTE] = owner_value(owner)
    return item


def touched(now: str) -> Expression:
    """The assignments every write makes: its time, and the next version."""
    stamp = Expression("updatedAt = :now", values={":now": {"S": now}})
    return joined(", ", (stamp, BUMP_VERSION))


def text_set_to(text: str) -> Expression:
    # `text` is one of DynamoDB's reserved words.
    return Expression("#text = :text", {"#text": "text"}, {":text": {"S": text}})


def completed_set_to(completed: bool) -> Expression:
    return Expression("completed = :completed", values={":completed": TRUE if completed else FALSE})


def filter_completed(completed: bool) -> Expression:
    """The FilterExpression for `completed=true|false`."""
    return IS_COMPLETED if completed else IS_OPEN


def version_condition(expected_version: int | None) -> Expression:
    """`attribute_exists(id)`, plus a version guard when the client sent If-Match."""
    if expected_version is None:
        return EXISTS
    expected = {":expected": {"N": str(expected_version)}}
    if expected_version == 0:
        # Items loaded from a seed file may have no version yet: they count as version 0.
        unversioned = "(attribute_not_exists(version) OR version = :expected)"
        return EXISTS & Expression(unversioned, values=expected)
    return EXISTS & Expression("version = :expected", values=expected)
