"""`python -m bench.decode`: the CPU of reading a create's body, with and without the
duplicate-member check (RFC 7493), as a ratio from one run. In-process, no server."""

from __future__ import annotations

import timeit

import msgspec

from todo_service.api.requests import refuse_duplicate_members
from todo_service.domain.todo import NewTodo

BODIES = {
    "plain": b'{"text": "Buy milk"}',
    "colons in text": b'{"text": "Meeting: 10:00 in room 3: bring notes"}',
}
ROUNDS = 200_000


def main() -> None:
    for name, body in BODIES.items():
        before = min(
            timeit.repeat(
                lambda b=body: msgspec.json.decode(b, type=NewTodo), number=ROUNDS, repeat=5
            )
        )

        def checked(b: bytes = body) -> None:
            msgspec.json.decode(b, type=NewTodo)
            refuse_duplicate_members(b)

        after = min(timeit.repeat(checked, number=ROUNDS, repeat=5))
        per_call_us = after / ROUNDS * 1e6
        print(f"{name}: {after / before:.2f}x the decode alone ({per_call_us:.2f} us a body)")


if __name__ == "__main__":
    main()
