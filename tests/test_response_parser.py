"""The service's response parser reads every DynamoDB answer exactly as botocore's does.

`sdk/response_parser.py` takes plain attribute values as decoded and leaves the rest to
botocore. These tests hold it to botocore's own parser: on a corpus of answers of every kind,
on a real server, and on the facts about botocore it relies on, so that an upgrade which
changes them fails here, loudly, instead of changing what the service reads.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import aioboto3
import botocore.session
import pytest
from aiobotocore.parsers import AioJSONParser, AioResponseParserFactory

from todo_service.sdk.client import client_config, open_client
from todo_service.sdk.response_parser import (
    AS_DECODED_TYPES,
    ATTRIBUTE_VALUE,
    DYNAMODB_PROTOCOL,
    PLAIN_MEMBERS,
    ItemParser,
    ItemParserFactory,
    is_plain,
)
from todo_service.settings import Settings

# Guard tests: they hold the speed-ups to the SDK as installed (sdk/switch.py).
pytestmark = pytest.mark.speedups

MODEL = botocore.session.get_session().get_service_model("dynamodb")
BLOB = base64.b64encode(b"\x00\xffbytes").decode()
# A set's members are distinct, or DynamoDB refuses it.
OTHER_BLOB = base64.b64encode(b"other").decode()

EVERY_TYPE: dict[str, Any] = {
    "id": {"N": "7"},
    "text": {"S": "Buy milk"},
    "completed": {"BOOL": True},
    "nothing": {"NULL": True},
    "tags": {"SS": ["a", "b"]},
    "scores": {"NS": ["1", "2.5"]},
    "blob": {"B": BLOB},
    "blobs": {"BS": [BLOB, OTHER_BLOB]},
    "doc": {"M": {"inner": {"B": BLOB}, "n": {"N": "1"}, "deep": {"L": [{"S": "x"}]}}},
    "list": {"L": [{"N": "1"}, {"B": BLOB}, {"M": {}}, {"L": []}]},
}
# Answers no DynamoDB sends but botocore still reads one way: the parsers must agree on them.
ODD_VALUES: dict[str, Any] = {
    "unknown": {"X": "a member this botocore does not know"},
    "null_member": {"S": None, "N": "1"},
    "set_as_string": {"SS": "abc"},
    "two_members": {"S": "a", "N": "1"},
    "empty": {},
}
CAPACITY = {"TableName": "T", "CapacityUnits": 0.5}
# Items the plain-answer decoder takes (sdk/response_parser.py's PLAIN_ANSWER), the odd
# ones included: botocore returns each of these values as it was sent.
PLAIN_ITEM: dict[str, Any] = {
    "id": {"N": "7"},
    "text": {"S": 'Buy milk, "quoted" and \u00e9'},
    "completed": {"BOOL": False},
    "nothing": {"NULL": True},
}
ODD_PLAIN_VALUES: dict[str, Any] = {
    "bool_as_string": {"BOOL": "yes"},
    "string_as_bool": {"S": True},
    "two_members": {"S": "a", "N": "1"},
    "empty": {},
}

# (operation, status, body): every output shape the service reads, and the rare ones.
ANSWERS: list[tuple[str, int, Any]] = [
    ("GetItem", 200, {"Item": EVERY_TYPE, "ConsumedCapacity": CAPACITY}),
    ("GetItem", 200, {"Item": ODD_VALUES}),
    ("GetItem", 200, {}),
    ("GetItem", 200, b""),
    (
        "Scan",
        200,
        {
            "Items": [EVERY_TYPE, {"id": {"N": "8"}}, ODD_VALUES],
            "Count": 3,
            "ScannedCount": 9,
            "LastEvaluatedKey": {"id": {"N": "8"}},
        },
    ),
    ("Query", 200, {"Items": [], "Count": 0, "ScannedCount": 0}),
    ("PutItem", 200, {}),
    ("UpdateItem", 200, {"Attributes": EVERY_TYPE}),
    ("DeleteItem", 200, {"Attributes": {"id": {"N": "1"}}}),
    (
        "BatchGetItem",
        200,
        {
            "Responses": {"T": [EVERY_TYPE]},
            "UnprocessedKeys": {"T": {"Keys": [{"id": {"N": "1"}}], "ConsistentRead": True}},
        },
    ),
    (
        "BatchWriteItem",
        200,
        {"UnprocessedItems": {"T": [{"PutRequest": {"Item": EVERY_TYPE}}]}},
    ),
    (
        "DescribeTable",
        200,
        {
            "Table": {
                "TableName": "T",
                "TableStatus": "ACTIVE",
                "CreationDateTime": 1764633600.123,
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [{"IndexName": "byOwner", "IndexStatus": "ACTIVE"}],
            }
        },
    ),
    (
        "ExecuteStatement",
        200,
        {"Items": [EVERY_TYPE], "NextToken": "t"},
    ),
    (
        "PutItem",
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            "message": "The conditional request failed",
            "Item": EVERY_TYPE,
        },
    ),
    (
        "TransactWriteItems",
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled",
            "CancellationReasons": [{"Code": "ConditionalCheckFailed", "Item": EVERY_TYPE}],
        },
    ),
    # Plain answers (no walk at all), and members around them that still need one.
    ("GetItem", 200, {"Item": PLAIN_ITEM}),
    ("GetItem", 200, {"Item": {}}),
    ("UpdateItem", 200, {"Attributes": ODD_PLAIN_VALUES}),
    (
        "Scan",
        200,
        {
            "Items": [PLAIN_ITEM, ODD_PLAIN_VALUES, {}],
            "Count": 3,
            "ScannedCount": 9,
            "LastEvaluatedKey": {"id": {"N": "8"}},
            "NotInTheModel": 5,
        },
    ),
    ("Query", 200, {"Items": [PLAIN_ITEM], "Count": [1], "ScannedCount": 1}),
    ("Scan", 200, {"Items": [PLAIN_ITEM], "ConsumedCapacity": CAPACITY}),
    ("Scan", 200, {"Items": [PLAIN_ITEM, {"tags": {"SS": ["a"]}}]}),
    ("Scan", 200, {"Items": [PLAIN_ITEM, {"gone": {"S": None}}]}),
    ("Scan", 200, {"Items": [PLAIN_ITEM], "Count": None}),
    ("DeleteItem", 200, {"Attributes": PLAIN_ITEM, "ItemCollectionMetrics": {}}),
    ("PutItem", 200, {"Attributes": PLAIN_ITEM, "ConsumedCapacity": None}),
    ("GetItem", 500, b"<html>bad gateway</html>"),
    ("GetItem", 200, b"not json at all"),
]


def response(operation: str, status: int, body: Any) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return {
        "status_code": status,
        "headers": {"x-amzn-requestid": "REQ", "content-type": "application/x-amz-json-1.0"},
        "body": raw,
        "context": {"operation_name": operation},
    }


async def parsed(parser: AioJSONParser, operation: str, status: int, body: Any) -> Any:
    operation_model = MODEL.operation_model(operation)
    answer = response(operation, status, body)
    result = await parser.parse(answer, operation_model.output_shape)
    error_code = result.get("Error", {}).get("Code")
    if status >= 300 and error_code:
        # As aiobotocore's endpoint does: the modeled error's own members on top.
        error_shape = MODEL.shape_for_error_code(error_code)
        if error_shape is not None:
            result.update(await parser.parse(answer, error_shape))
    return result


@pytest.mark.parametrize(
    ("operation", "status", "body"),
    ANSWERS,
    ids=[f"{op}-{status}-{i}" for i, (op, status, _) in enumerate(ANSWERS)],
)
async def test_item_parser_reads_every_answer_as_botocore_does(
    operation: str, status: int, body: Any
) -> None:
    ours = await parsed(
        ItemParserFactory().create_parser(DYNAMODB_PROTOCOL), operation, status, body
    )
    theirs = await parsed(
        AioResponseParserFactory().create_parser(DYNAMODB_PROTOCOL), operation, status, body
    )
    assert ours == theirs


async def test_binary_and_nested_values_are_still_decoded_to_bytes() -> None:
    result = await parsed(ItemParser(), "GetItem", 200, {"Item": EVERY_TYPE})
    item = result["Item"]
    assert item["blob"] == {"B": b"\x00\xffbytes"}
    assert item["blobs"] == {"BS": [b"\x00\xffbytes", b"other"]}
    assert item["doc"]["M"]["inner"] == {"B": b"\x00\xffbytes"}
    assert item["list"]["L"][1] == {"B": b"\x00\xffbytes"}
    assert item["text"] == {"S": "Buy milk"}


async def test_parser_defaults_set_on_the_factory_reach_its_parsers() -> None:
    factory = ItemParserFactory()
    factory.set_parser_defaults(blob_parser=lambda text: f"blob:{text}")
    result = await parsed(
        factory.create_parser(DYNAMODB_PROTOCOL), "GetItem", 200, {"Item": EVERY_TYPE}
    )
    assert result["Item"]["blob"] == {"B": f"blob:{BLOB}"}


async def test_a_plain_answer_is_read_without_walking_it(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = {"Items": [PLAIN_ITEM] * 3, "Count": 3, "LastEvaluatedKey": {"id": {"N": "7"}}}

    def walked(self: ItemParser, shape: Any, value: Any) -> Any:
        raise AssertionError(f"walked {shape.name}")

    monkeypatch.setattr(ItemParser, "_parse_shape", walked)
    result = await parsed(ItemParser(), "Scan", 200, answer)
    assert result["Items"] == [PLAIN_ITEM] * 3
    assert result["Count"] == 3
    assert result["LastEvaluatedKey"] == {"id": {"N": "7"}}
    # An answer with a member of another shape is walked.
    with pytest.raises(AssertionError, match="walked"):
        await parsed(ItemParser(), "Scan", 200, {**answer, "ConsumedCapacity": CAPACITY})


def test_only_values_botocore_returns_unchanged_count_as_plain() -> None:
    for value in [{"S": "a"}, {"NS": ["1"]}, {"BOOL": False}, {"S": "a", "NULL": True}]:
        assert is_plain(value), value
    for value in [{"B": BLOB}, {"M": {}}, {"L": []}, {"X": "1"}, {"S": None}, {"SS": "a"}, "S"]:
        assert not is_plain(value), value


def test_what_the_parser_relies_on_in_botocore_still_holds() -> None:
    """If one of these fails, botocore changed: re-check response_parser.py before upgrading."""
    assert MODEL.resolved_protocol == DYNAMODB_PROTOCOL
    value = MODEL.shape_for(ATTRIBUTE_VALUE)
    assert value.type_name == "structure"
    assert not value.is_tagged_union
    assert {name: shape.type_name for name, shape in value.members.items()} == {
        "S": "string",
        "N": "string",
        "B": "blob",
        "SS": "list",
        "NS": "list",
        "BS": "list",
        "M": "map",
        "L": "list",
        "NULL": "boolean",
        "BOOL": "boolean",
    }
    assert {"S", "N", "SS", "NS", "NULL", "BOOL"} == PLAIN_MEMBERS
    assert all(not value.members[name].serialization for name in value.members)
    item = MODEL.operation_model("GetItem").output_shape.members["Item"]
    assert item.type_name == "map"
    assert item.value.name == ATTRIBUTE_VALUE
    # The parser's own methods override botocore's by these names.
    for method in ("_handle_map", "_handle_structure", "_parse_body_as_json", "_handle_json_body"):
        assert hasattr(AioJSONParser, method), method
    assert isinstance(AioResponseParserFactory()._defaults, dict)
    # The members the plain path takes as decoded go to botocore's default handler.
    for type_name in AS_DECODED_TYPES:
        assert not hasattr(AioJSONParser, f"_handle_{type_name}"), type_name
    scan = MODEL.operation_model("Scan").output_shape
    assert scan.members["Items"].member.value.name == ATTRIBUTE_VALUE
    assert scan.members["LastEvaluatedKey"].value.name == ATTRIBUTE_VALUE


async def test_service_client_reads_a_real_servers_items_as_a_stock_client(
    settings: Settings,
) -> None:
    # The item as the SDK takes it: the corpus's item with its binaries decoded.
    stock_parser = AioResponseParserFactory().create_parser(DYNAMODB_PROTOCOL)
    wire = (await parsed(stock_parser, "GetItem", 200, {"Item": EVERY_TYPE}))["Item"]
    stock = aioboto3.Session().client(
        "dynamodb",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=client_config(settings.client_options()),
    )
    on = settings.replace(sdk_speedups="on").client_options()
    async with open_client(on) as ours, stock as theirs:
        await ours.put_item(TableName=settings.table_name, Item=wire)
        key = {"id": {"N": "7"}}
        for read in (
            lambda c: c.get_item(TableName=settings.table_name, Key=key, ConsistentRead=True),
            lambda c: c.scan(TableName=settings.table_name, ConsistentRead=True),
        ):
            mine, stocks = await read(ours), await read(theirs)
            for answer in (mine, stocks):
                answer["ResponseMetadata"].pop("HTTPHeaders")
                answer["ResponseMetadata"].pop("RequestId", None)
            assert mine == stocks
        got = (await ours.get_item(TableName=settings.table_name, Key=key))["Item"]
        assert got == wire
