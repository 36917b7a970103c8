"""FastAPI + uvicorn, the stack most Python developers would pick instead (issue 13).

Built and run as FastAPI's documentation does it: path operations, a pydantic model for the
body, one aioboto3 client per worker process opened and closed in the lifespan, and
`uvicorn fastapi_app:app --workers N` with uvloop and httptools (uvicorn[standard]). Not part
of the service.

As small and as fair as the floor (bench/direct.py): the same DynamoDB calls with the same
parameters (a strongly consistent GetItem by id, a Scan with Limit, a PutItem that must not
overwrite), one call per request, on a default-configured client whose pool alone is sized to
the benchmark's concurrency. The toggle is the service's conditional flip: DynamoDB cannot
negate a BOOL, so it assumes the todo is open (`completed = false`) and, if the condition
says otherwise, flips the other way; a todo that fails both is missing (404). Like the
service's, that is one call when the guess is right and two when it is wrong.

    uvicorn fastapi_app:app --app-dir bench/baselines --workers 2 --loop uvloop --http httptools
"""

import os
import random
import time
from contextlib import asynccontextmanager

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError
from fastapi import FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, Field

TABLE = os.environ.get("TODO_TABLE_NAME", "TodoTable")
# The benchmark's highest connection count, as the floor sizes its pool.
MAX_POOL_CONNECTIONS = 128


@asynccontextmanager
async def lifespan(app: FastAPI):
    session = aioboto3.Session()
    config = AioConfig(max_pool_connections=MAX_POOL_CONNECTIONS)
    async with session.client("dynamodb", config=config) as client:
        app.state.dynamodb = client
        yield


app = FastAPI(lifespan=lifespan)


class NewTodo(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def todo(item: dict) -> dict:
    # The same members as the service's todo (its version travels in the ETag header).
    return {
        "id": int(item["id"]["N"]),
        "text": item["text"]["S"],
        "completed": item["completed"]["BOOL"],
        "createdAt": item["createdAt"]["S"],
        "updatedAt": item["updatedAt"]["S"],
    }


@app.get("/")
async def health() -> dict:
    return {"message": "ok"}


@app.get("/todos")
async def list_todos(request: Request, limit: int = Query(50, ge=1, le=100)) -> list[dict]:
    answer = await request.app.state.dynamodb.scan(
        TableName=TABLE, ConsistentRead=True, Limit=limit
    )
    return [todo(item) for item in answer["Items"]]


@app.get("/todos/{todo_id}")
async def get_todo(request: Request, todo_id: int) -> dict:
    answer = await request.app.state.dynamodb.get_item(
        TableName=TABLE, Key={"id": {"N": str(todo_id)}}, ConsistentRead=True
    )
    if "Item" not in answer:
        raise HTTPException(status_code=404, detail="todo not found")
    return todo(answer["Item"])


@app.post("/todos", status_code=201)
async def create_todo(request: Request, body: NewTodo) -> dict:
    stamp = now()
    item = {
        "id": {"N": str(random.randint(10**12, 2**53 - 1))},
        "text": {"S": body.text},
        "completed": {"BOOL": False},
        "createdAt": {"S": stamp},
        "updatedAt": {"S": stamp},
        "version": {"N": "1"},
    }
    await request.app.state.dynamodb.put_item(
        TableName=TABLE, Item=item, ConditionExpression="attribute_not_exists(id)"
    )
    return todo(item)


@app.post("/todos/{todo_id}/toggle")
async def toggle_todo(request: Request, todo_id: int) -> dict:
    for completed in (False, True):
        try:
            answer = await request.app.state.dynamodb.update_item(
                TableName=TABLE,
                Key={"id": {"N": str(todo_id)}},
                UpdateExpression="SET completed = :target, updatedAt = :now, "
                "version = version + :one",
                ConditionExpression="attribute_exists(id) AND completed = :current",
                ExpressionAttributeValues={
                    ":current": {"BOOL": completed},
                    ":target": {"BOOL": not completed},
                    ":now": {"S": now()},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            continue
        return todo(answer["Attributes"])
    raise HTTPException(status_code=404, detail="todo not found")
