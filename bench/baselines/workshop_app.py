"""The workshop's todo API, rebuilt as the benchmark's baseline (not part of the service).

Faithful to module 3 of the workshop (../shared/seed/README.md): Flask + flask-cors, one
module-level synchronous boto3 *client*, the same routes (GET /, GET /todos, POST /todos,
POST /todos/<id>/toggle, DELETE /todos/<id>), JSON made with json.dumps. Added only what
the benchmark needs to compare like with like:

- GET /todos/<id> for the "get one todo" scenario;
- GET /todos?limit=N passes Limit to its single Scan. Without it the route scans once, as the
  workshop does (no LastEvaluatedKey, so it stops at DynamoDB's 1 MB page).

Toggle is the workshop's read-modify-write: GetItem, flip, UpdateItem (two calls, racy).
Run it the workshop's way (`python workshop_app.py --port P`, Flask's own threaded server) or
the production way (`gunicorn -w 2 -k sync workshop_app:app`).
"""

import argparse
import json
import os
import random
from datetime import UTC, datetime

import boto3
from flask import Flask, Response, request
from flask_cors import CORS

# ---- todoTableClient.py: the module-level client the workshop's service imports ----
region = os.environ.get("AWS_REGION", "us-east-1")
table_name = os.environ.get("TODO_TABLE_NAME", "TodoTable")
client = boto3.client("dynamodb", region_name=region)


def todoJson(item):
    completed = item.get("completed", {})
    return {
        "id": int(item["id"]["N"]),
        "text": item["text"]["S"],
        "completed": completed.get("BOOL", completed.get("N") == "1"),
        "createdAt": item.get("createdAt", {}).get("S"),
        "updatedAt": item.get("updatedAt", {}).get("S"),
    }


def getAllTodos(limit=None):
    params = {"TableName": table_name}
    if limit is not None:
        params["Limit"] = limit
    response = client.scan(**params)
    return json.dumps({"todos": [todoJson(item) for item in response["Items"]]})


def getTodo(todoId):
    response = client.get_item(TableName=table_name, Key={"id": {"N": str(todoId)}})
    if "Item" not in response:
        return None
    return json.dumps(todoJson(response["Item"]))


def createTodo(text):
    now = datetime.now(UTC).isoformat()
    todoId = random.randint(1, 2**53 - 1)
    item = {
        "id": {"N": str(todoId)},
        "text": {"S": text},
        "completed": {"BOOL": False},
        "createdAt": {"S": now},
        "updatedAt": {"S": now},
    }
    client.put_item(TableName=table_name, Item=item)
    return json.dumps(todoJson(item))


def toggleTodo(todoId):
    key = {"id": {"N": str(todoId)}}
    response = client.get_item(TableName=table_name, Key=key)
    if "Item" not in response:
        return None
    item = response["Item"]
    completed = todoJson(item)["completed"]
    # The workshop stores a BOOL; the shared benchmark table stores N 0/1: keep its type.
    flipped = (
        {"N": "0" if completed else "1"}
        if "N" in item.get("completed", {})
        else {"BOOL": not completed}
    )
    response = client.update_item(
        TableName=table_name,
        Key=key,
        UpdateExpression="SET completed = :c, updatedAt = :u",
        ExpressionAttributeValues={
            ":c": flipped,
            ":u": {"S": datetime.now(UTC).isoformat()},
        },
        ReturnValues="ALL_NEW",
    )
    return json.dumps(todoJson(response["Attributes"]))


def deleteTodo(todoId):
    client.delete_item(TableName=table_name, Key={"id": {"N": str(todoId)}})


# ---- the Flask service ----
app = Flask(__name__)
CORS(app)


def jsonResponse(body, status=200):
    return Response(body, status=status, content_type="application/json")


@app.route("/")
def healthCheckResponse():
    return jsonResponse(json.dumps({"message": "Nothing here, used for health check."}))


@app.route("/todos", methods=["GET"])
def getTodos():
    limit = request.args.get("limit")
    return jsonResponse(getAllTodos(int(limit) if limit else None))


@app.route("/todos", methods=["POST"])
def addTodo():
    body = request.get_json(silent=True) or {}
    if "text" not in body:
        return jsonResponse(json.dumps({"error": "text is required"}), 400)
    return jsonResponse(createTodo(body["text"]), 201)


@app.route("/todos/<int:todoId>", methods=["GET"])
def getOneTodo(todoId):
    body = getTodo(todoId)
    return jsonResponse(body) if body else jsonResponse(json.dumps({"error": "not found"}), 404)


@app.route("/todos/<int:todoId>/toggle", methods=["POST"])
def toggle(todoId):
    body = toggleTodo(todoId)
    return jsonResponse(body) if body else jsonResponse(json.dumps({"error": "not found"}), 404)


@app.route("/todos/<int:todoId>", methods=["DELETE"])
def delete(todoId):
    deleteTodo(todoId)
    return Response(status=204)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    # The workshop's container runs exactly this: Flask's own (threaded) server.
    app.run(host=args.host, port=args.port)
