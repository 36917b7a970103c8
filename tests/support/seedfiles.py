"""Seed files in the batch-write-item request-items format, written for a test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def put(todo_id: int, text: str, completed: bool = False) -> dict[str, Any]:
    return {
        "PutRequest": {
            "Item": {
                "id": {"N": str(todo_id)},
                "text": {"S": text},
                "completed": {"BOOL": completed},
                "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
                "updatedAt": {"S": "2026-01-01T00:00:00.000Z"},
            }
        }
    }


def write_seed_file(path: Path, table: str, requests: list[Any]) -> Path:
    path.write_text(json.dumps({table: requests}))
    return path
