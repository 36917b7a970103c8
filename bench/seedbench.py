"""The seed loader's side of the benchmark: a 10,000-todo file, and the boto3 way to load it.

`write_seed_file` makes a file in the `batch-write-item --request-items` format, which
`todo-service seed` loads. `python -m bench.seedbench --file F --table T` loads the same file
the way a boto3 user would: the resource layer's `batch_writer()`, one batch at a time
(sequential), and prints "BENCH-JSON {"items": n, "seconds": s}" for the writing alone.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from todo_service.store.table import OWNER_ATTRIBUTE, OWNER_ATTRIBUTE_TYPE

TEXTS = ("Buy milk", "Write the benchmark", "Call the plumber", "Read chapter 3", "Ship it")


def write_seed_file(path: Path, table: str, items: int, owner: str | None = None) -> Path:
    """`items` todos with ids 1..items, about 200 bytes each, like the project's data file.

    With `owner`, each also has the `owner` attribute (a Cognito `sub`): the todos a
    TODO_AUTH=cognito service shows that user. `todo-service seed` refuses the attribute (a
    seeded todo belongs to nobody), so such a file is loaded with `load_with_batch_writer`.
    """
    stamp = "2026-11-01T09:03:00.000Z"
    owned = {} if owner is None else {OWNER_ATTRIBUTE: {OWNER_ATTRIBUTE_TYPE: owner}}
    requests = [
        {
            "PutRequest": {
                "Item": {
                    "id": {"N": str(i)},
                    "text": {"S": f"{TEXTS[i % len(TEXTS)]} #{i}"},
                    # As `todo-service seed` stores it (it turns the legacy N 0/1 into BOOL).
                    "completed": {"BOOL": i % 2 == 1},
                    "createdAt": {"S": stamp},
                    "updatedAt": {"S": stamp},
                    "version": {"N": "1"},
                    **owned,
                }
            }
        }
        for i in range(1, items + 1)
    ]
    path.write_text(json.dumps({table: requests}))
    return path


def load_with_batch_writer(path: Path, table_name: str) -> dict[str, Any]:
    import boto3
    from boto3.dynamodb.types import TypeDeserializer

    [(_, requests)] = json.loads(path.read_text()).items()
    deserialize = TypeDeserializer().deserialize
    items = [
        {name: deserialize(value) for name, value in r["PutRequest"]["Item"].items()}
        for r in requests
    ]
    table = boto3.resource("dynamodb").Table(table_name)
    started = time.perf_counter()
    with table.batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)
    return {"items": len(items), "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--table", required=True)
    args = parser.parse_args()
    print("BENCH-JSON " + json.dumps(load_with_batch_writer(args.file, args.table)), flush=True)


if __name__ == "__main__":
    main()
