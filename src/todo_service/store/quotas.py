"""The per-user quota of todos: one counter per owner, exact under concurrency and retries.

With sign-in, anyone may sign up, and an on-demand table bills every item it holds and every
write. So each owner may keep at most `limit` todos (TODO_MAX_TODOS_PER_USER). The counter is
one item per owner in the idempotency table, never in the todo table: no list, Scan, seed
round trip or export of todos ever sees it. Counter item::

    idempotencyKey S   "quota#<owner>" (the records' keys are SHA-256 hex: never equal)
    count          N   the owner's todos, counted
    pending        M   todo id -> reservation token: counted, the todo not yet confirmed made
    releasing      M   todo id -> token: about to be deleted, not yet uncounted

Without transactions (dynalite has none) a create is three single-item conditional writes:

1. `reserve`: count + 1 and pending[id] = token, only if count < limit and pending has no id:
   DynamoDB applies it or refuses it atomically, so 60 concurrent creates with room for 20
   make exactly 20 reservations. A botocore retry after a lost answer finds pending[id] equal
   to its own token: it counted once.
2. the todo's own conditional put (store/todos.py);
3. `confirm`: remove pending[id].

A delete marks releasing[id], deletes the todo, then uncounts it and removes the mark in one
conditional write (only if the mark is still its own), so a retried uncount never counts twice.

A crash between two of these writes leaves a reservation or a mark behind: the counter then
counts one todo too many, never too few. `repair` settles what is older than `STALE_AFTER_S`
(far past the DynamoDB deadline any request has): a reservation whose todo exists is
confirmed, one whose todo does not is uncounted; a mark whose todo still exists is dropped, one
whose todo is gone is uncounted. Each settle is conditional on the token it read, so it never
races a live request. A create refused at the limit repairs first, so drift never locks a user
out.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from todo_service.domain.errors import Conflict, QuotaExceeded
from todo_service.store import items
from todo_service.store.calls import Written, put_item, read_item, update_item
from todo_service.store.expressions import Expression, set_clause
from todo_service.store.table import IDEMPOTENCY_PARTITION_KEY

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

COUNTER_PREFIX: Final = "quota#"
# A reservation or a mark this old belongs to no live request: the deadline of a whole request
# is seconds (TODO_DYNAMODB_TIMEOUT_S), this is minutes.
STALE_AFTER_S: Final = 120.0
# `count` is one of DynamoDB's reserved words. Each expression names only what it uses:
# DynamoDB refuses a placeholder that an expression leaves unused.
_COUNT: Final = {"#count": "count"}
_ONE: Final = {":one": items.ONE}
# A reservation is renewed or remade only when another request settles it in between.
MAX_RESERVE_ATTEMPTS: Final = 3


def _token() -> str:
    """A reservation's own token: when it was made, and 64 random bits that make it ours."""
    return f"{time.time():.3f}:{secrets.token_hex(8)}"


def _made_at(token: str) -> float:
    return float(token.partition(":")[0])


def _entry(field: str, todo_id: int) -> Expression:
    """`#pending.#id` (or `#releasing`): the entry of one todo in one of the maps."""
    return Expression(f"{field}.#id", {field: field.removeprefix("#"), "#id": str(todo_id)})


@dataclasses.dataclass(frozen=True, slots=True)
class Reservation:
    todo_id: int
    token: str
    # False when the todo already had a reservation (an earlier attempt of the same
    # Idempotency-Key's create, which died before confirming it).
    new: bool


class OwnerQuota:
    """One owner's quota, for the length of a request."""

    def __init__(
        self,
        client: DynamoDBClient,
        records_table: str,
        todo_table: str,
        limit: int,
        owner: str,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:
        self._client = client
        self._stale_after_s = stale_after_s
        self._table = records_table
        self._todos = todo_table
        self.limit = limit
        self.owner = owner
        self._key = {IDEMPOTENCY_PARTITION_KEY: {"S": COUNTER_PREFIX + owner}}

    async def _update(self, update: Expression, condition: Expression) -> Written:
        """One conditional write to the owner's counter, which is made on first use."""
        try:
            return await update_item(self._client, self._table, self._key, update, condition)
        except ClientError as error:
            # A map entry can only be set inside an existing map: the counter is not there yet.
            if error.response.get("Error", {}).get("Code") != "ValidationException":
                raise
        fresh = {
            **self._key,
            "count": items.ZERO,
            "pending": {"M": {}},
            "releasing": {"M": {}},
        }
        await put_item(
            self._client, self._table, fresh, Expression("attribute_not_exists(#count)", _COUNT)
        )
        return await update_item(self._client, self._table, self._key, update, condition)

    async def counter(self) -> Mapping[str, Any] | None:
        answer = await self._client.get_item(
            TableName=self._table, Key=self._key, ConsistentRead=True
        )
        return answer.get("Item")

    async def reserve(self, todo_id: int) -> Reservation:
        """Count a todo about to be made; QuotaExceeded when the owner has no room left."""
        for repaired in (False, True):
            reservation = await self._reserve(todo_id)
            if reservation is not None:
                return reservation
            if repaired or not await self.repair():
                break
        raise QuotaExceeded(self.limit)

    async def _reserve(self, todo_id: int) -> Reservation | None:
        """A reservation, or None when there is no room."""
        entry = _entry("#pending", todo_id)
        # A counter not made yet has room: the update then fails for want of the maps, and
        # `_update` makes them.
        room = Expression(
            "(attribute_not_exists(#count) OR #count < :limit)",
            _COUNT,
            {":limit": {"N": str(self.limit)}},
        )
        unreserved = Expression(f"attribute_not_exists({entry.text})", entry.names)
        for _ in range(MAX_RESERVE_ATTEMPTS):
            token = _token()
            mark = Expression(f"{entry.text} = :token", entry.names, {":token": {"S": token}})
            counted = Expression("#count = #count + :one", _COUNT, _ONE)
            if (await self._update(set_clause(counted, mark), room & unreserved)).applied:
                return Reservation(todo_id, token, new=True)
            held = _pending(await self.counter(), todo_id)
            if held is None:
                return None  # no room
            if held == token:
                return Reservation(todo_id, token, new=True)  # our own first attempt counted it
            # Reserved by an earlier attempt of this todo's create (the same Idempotency-Key):
            # renew it, so that `repair` does not take it for abandoned while we complete it.
            theirs = Expression(f"{entry.text} = :held", entry.names, {":held": {"S": held}})
            renewed = await self._update(set_clause(mark), theirs)
            if renewed.applied or _pending(await self.counter(), todo_id) == token:
                return Reservation(todo_id, token, new=False)
            # Settled by a repair meanwhile: start over.
        raise Conflict("the todo's quota reservation kept changing; try again")

    async def confirm(self, reservation: Reservation) -> None:
        """The todo is made: its reservation is done (it stays counted)."""
        await self._drop("#pending", reservation.todo_id, reservation.token)

    async def _drop(self, field: str, todo_id: int, token: str) -> None:
        """The entry gone, the count as it is: only while the entry is still `token`."""
        entry = _entry(field, todo_id)
        await self._update(
            Expression(f"REMOVE {entry.text}", entry.names),
            Expression(f"{entry.text} = :token", entry.names, {":token": {"S": token}}),
        )

    async def cancel(self, reservation: Reservation) -> None:
        """No todo was made for this reservation (or it was counted already): uncount it."""
        await self._uncount("#pending", reservation.todo_id, reservation.token)

    async def move(self, reservation: Reservation, todo_id: int) -> Reservation:
        """The reservation, for another id (the first one was taken by another process)."""
        await self.cancel(reservation)
        return await self.reserve(todo_id)

    async def begin_release(self, todo_id: int) -> str:
        """Mark a todo about to be deleted; the mark's token."""
        token = _token()
        entry = _entry("#releasing", todo_id)
        await self._update(
            set_clause(Expression(f"{entry.text} = :token", entry.names, {":token": {"S": token}})),
            Expression("attribute_exists(#count)", _COUNT),
        )
        return token

    async def finish_release(self, todo_id: int, token: str, deleted: bool) -> None:
        """The todo was deleted (uncount it) or not (drop the mark)."""
        if deleted:
            await self._uncount("#releasing", todo_id, token)
        else:
            await self._drop("#releasing", todo_id, token)

    async def _uncount(self, field: str, todo_id: int, token: str) -> None:
        """count - 1 and the entry gone, once: only while the entry is still `token`."""
        entry = _entry(field, todo_id)
        mine = Expression(f"{entry.text} = :token", entry.names, {":token": {"S": token}})
        positive = Expression("#count > :zero", _COUNT, {":zero": items.ZERO})
        written = await self._update(
            Expression(
                f"SET #count = #count - :one REMOVE {entry.text}", {**_COUNT, **entry.names}, _ONE
            ),
            mine & positive,
        )
        if not written.applied:
            # Already done by our first attempt (then the entry is gone, and this does
            # nothing), or the count was 0 (todos made before the quota was on): drop it.
            await self._drop(field, todo_id, token)

    async def repair(self) -> bool:
        """Settle the reservations and marks no live request holds; True if any was uncounted."""
        counter = await self.counter()
        if counter is None:
            return False
        stale_before = time.time() - self._stale_after_s
        uncounted = False
        for field, name in (("#pending", "pending"), ("#releasing", "releasing")):
            entries = counter.get(name, {}).get("M", {})
            for raw_id, value in entries.items():
                token = value.get("S", "")
                if _made_at(token) > stale_before:
                    continue
                todo_id = int(raw_id)
                # A todo that exists stays counted (made, or never deleted): only the entry
                # goes. One that does not (never made, or deleted) is uncounted.
                if await read_item(self._client, self._todos, todo_id) is not None:
                    await self._drop(field, todo_id, token)
                else:
                    await self._uncount(field, todo_id, token)
                    uncounted = True
        return uncounted


def _pending(counter: Mapping[str, Any] | None, todo_id: int) -> str | None:
    if counter is None:
        return None
    entry = counter.get("pending", {}).get("M", {}).get(str(todo_id))
    return None if entry is None else str(entry.get("S"))


class Unlimited:
    """The quota where there is none: no owner (TODO_AUTH=none), or no limit set (0)."""

    async def reserve(self, todo_id: int) -> Reservation:
        return Reservation(todo_id, "", new=True)

    async def confirm(self, reservation: Reservation) -> None:
        pass

    async def cancel(self, reservation: Reservation) -> None:
        pass

    async def move(self, reservation: Reservation, todo_id: int) -> Reservation:
        return Reservation(todo_id, "", new=True)

    async def begin_release(self, todo_id: int) -> str:
        return ""

    async def finish_release(self, todo_id: int, token: str, deleted: bool) -> None:
        pass


UNLIMITED: Final = Unlimited()
