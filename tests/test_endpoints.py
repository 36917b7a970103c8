"""The service's client resolves each endpoint once per operation and table, to the same URL as
botocore would on every call.

The calls are stopped before they leave the machine: what matters is where, and with which
headers, botocore would send them, for AWS's own endpoints (with and without an account id)
and for a local one.
"""

from __future__ import annotations

import inspect
import uuid
from typing import Any

import aioboto3
import botocore
import pytest
from aiobotocore.client import AioBaseClient
from aiobotocore.config import AioConfig
from aiobotocore.regions import AioEndpointRulesetResolver

from todo_service import __version__
from todo_service.sdk import speedups
from todo_service.sdk.client import ClientOptions, client_config, open_client
from todo_service.sdk.endpoints import ANSWERS_KEPT, CachedEndpoints, cache_endpoints

from .support.unsent import Stop, freeze_botocore_clock, stop_before_sending

# Guard tests: they hold the speed-ups to the SDK as installed (sdk/switch.py).
pytestmark = pytest.mark.speedups

REGION = "eu-west-1"
ACCOUNT = "123456789012"
KEY = {"id": {"N": "1"}}
# A table named by its ARN: botocore sends the call to that account's endpoint, so the cache
# must tell it apart from "T" (it keys on the table name as given).
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:111122223333:table/T"
ARN_HOST = f"https://111122223333.ddb.{REGION}.amazonaws.com/"


async def make_calls(client: Any) -> None:
    calls = [
        client.get_item(TableName="T", Key=KEY, ConsistentRead=True),
        client.get_item(TableName="T", Key=KEY),  # a second time: from the cache
        client.get_item(TableName="Other", Key=KEY),
        client.get_item(TableName=TABLE_ARN, Key=KEY),
        client.put_item(TableName="T", Item=KEY),
        client.update_item(TableName="T", Key=KEY, UpdateExpression="SET a = :a",
                           ExpressionAttributeValues={":a": {"N": "1"}}),
        client.delete_item(TableName="T", Key=KEY),
        client.scan(TableName="T", Limit=50),
        client.query(TableName="T", KeyConditionExpression="id = :i",
                     ExpressionAttributeValues={":i": {"N": "1"}}),
        client.describe_table(TableName="T"),
        client.batch_write_item(RequestItems={"T": [{"PutRequest": {"Item": KEY}}]}),
        client.batch_write_item(RequestItems={"Other": [{"PutRequest": {"Item": KEY}}]}),
        client.list_tables(),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(Stop):
            await call


def session(account_id: str | None) -> aioboto3.Session:
    return aioboto3.Session(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        aws_account_id=account_id,
        botocore_session=speedups.session(),
    )


@pytest.mark.parametrize(
    ("endpoint_url", "account_id", "hosts"),
    [
        (None, None, {f"https://dynamodb.{REGION}.amazonaws.com/", ARN_HOST}),
        (None, ACCOUNT, {f"https://{ACCOUNT}.ddb.{REGION}.amazonaws.com/", ARN_HOST}),
        ("http://127.0.0.1:8000", None, {"http://127.0.0.1:8000/"}),
    ],
    ids=["aws", "aws-account-id", "local"],
)
async def test_every_call_goes_where_and_as_botocore_would_send_it(
    monkeypatch: pytest.MonkeyPatch,
    endpoint_url: str | None,
    account_id: str | None,
    hosts: set[str],
) -> None:
    freeze_botocore_clock(monkeypatch)  # both clients sign at one moment
    # The one header that differs between two calls otherwise: botocore's invocation id.
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=7))
    options = ClientOptions(endpoint_url=endpoint_url, region=REGION)
    config = client_config(options).merge(speedups.config())
    sent: dict[str, list[tuple[str, dict[str, Any]]]] = {"cached": [], "stock": []}
    for name in sent:
        async with session(account_id).client(
            "dynamodb", region_name=REGION, endpoint_url=endpoint_url, config=config
        ) as client:
            if name == "cached":
                cache_endpoints(client)
            stop_before_sending(client, sent[name])
            await make_calls(client)
    assert len(sent["cached"]) == 13
    assert sent["cached"] == sent["stock"]
    assert {url for url, _ in sent["cached"]} == hosts
    # The service's fixed User-Agent, with the botocore version aiobotocore adds, once.
    agents = {headers["User-Agent"] for _, headers in sent["cached"]}
    assert agents == {f"todo-service/{__version__} botocore/{botocore.__version__}".encode()}


async def test_each_operation_and_table_is_resolved_once() -> None:
    async with open_client(ClientOptions(region=REGION, speedups="on")) as client:
        cached = client._ruleset_resolver
        assert isinstance(cached, CachedEndpoints)
        inner = cached._resolver
        resolved: list[tuple[str, Any]] = []
        construct = inner.construct_endpoint

        async def counting(**kwargs: Any) -> Any:
            args = kwargs["call_args"]
            resolved.append((kwargs["operation_model"].name, args.get("TableName")))
            return await construct(**kwargs)

        inner.construct_endpoint = counting
        stop_before_sending(client, [])
        await make_calls(client)
        await make_calls(client)
    by_key: dict[tuple[str, Any], int] = {}
    for key in resolved:
        by_key[key] = by_key.get(key, 0) + 1
    # BatchWriteItem's ResourceArnList comes from a JMESPath over RequestItems: every time.
    assert by_key.pop(("BatchWriteItem", None)) == 4
    assert by_key == {
        ("GetItem", "T"): 1,
        ("GetItem", "Other"): 1,
        ("GetItem", TABLE_ARN): 1,
        ("PutItem", "T"): 1,
        ("UpdateItem", "T"): 1,
        ("DeleteItem", "T"): 1,
        ("Scan", "T"): 1,
        ("Query", "T"): 1,
        ("DescribeTable", "T"): 1,
        ("ListTables", None): 1,
    }


async def test_unhashable_arguments_and_a_full_cache_resolve_as_botocore_does() -> None:
    async with open_client(ClientOptions(region=REGION, speedups="on")) as client:
        cached = client._ruleset_resolver
        model = client._service_model.operation_model("GetItem")
        assert cached._key(model, {"TableName": ["not", "hashable"]}) is None
        assert cached._key(model, {"TableName": "T"}) == ("GetItem", "T")
        for n in range(ANSWERS_KEPT + 5):
            answer = await cached.construct_endpoint(
                operation_model=model, call_args={"TableName": f"T{n}"}, request_context={}
            )
            assert answer.url == f"https://dynamodb.{REGION}.amazonaws.com"
        assert len(cached._answers) == ANSWERS_KEPT
        # Everything else botocore asks of the resolver still reaches it.
        assert cached.auth_schemes_to_signing_ctx == cached._resolver.auth_schemes_to_signing_ctx


async def test_botocore_still_asks_the_resolver_the_way_the_cache_answers() -> None:
    """If this fails, aiobotocore changed: re-check sdk/endpoints.py before upgrading."""
    source = inspect.getsource(AioBaseClient._resolve_endpoint_ruleset)
    assert "self._ruleset_resolver.construct_endpoint(" in source
    for keyword in ("operation_model=", "call_args=", "request_context="):
        assert keyword in source, keyword
    parameters = inspect.signature(AioEndpointRulesetResolver.construct_endpoint).parameters
    assert list(parameters) == ["self", "operation_model", "call_args", "request_context"]
    stock = aioboto3.Session().client(
        "dynamodb", region_name=REGION, config=AioConfig(signature_version="v4")
    )
    async with stock as client:
        assert isinstance(client._ruleset_resolver, AioEndpointRulesetResolver)
        cache_endpoints(client)
        cache_endpoints(client)  # idempotent: one layer of cache
        assert isinstance(client._ruleset_resolver._resolver, AioEndpointRulesetResolver)
