"""The service's signer signs every request exactly as botocore's SigV4Auth does.

No local DynamoDB server checks signatures, so the check is against botocore itself: the same
request signed at the same moment by both signers must carry the same headers, byte for byte.
The client tests sign real calls (with AWS's own endpoint resolution, not a local URL) and
stop them before they leave the machine.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import aioboto3
import botocore.auth
import pytest
from aiobotocore.config import AioConfig
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from todo_service.sdk import signer
from todo_service.sdk.client import ClientOptions, client_config, open_client

from .support.unsent import MOMENT, Stop, freeze_botocore_clock, stop_before_sending

# Guard tests: they hold the speed-ups to the SDK as installed (sdk/switch.py).
pytestmark = pytest.mark.speedups

KEYS = ReadOnlyCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None)
SESSION_KEYS = ReadOnlyCredentials("ASIAEXAMPLE", "secret/with+chars", "a-session-token==")
TARGET = "DynamoDB_20120810."


def dynamodb_request(operation: str, body: dict[str, Any], url: str) -> AWSRequest:
    return AWSRequest(
        method="POST",
        url=url,
        headers={
            "X-Amz-Target": TARGET + operation,
            "Content-Type": "application/x-amz-json-1.0",
            "User-Agent": "todo-service/test botocore/1",
        },
        data=json.dumps(body).encode(),
    )


def odd_requests() -> Iterator[tuple[str, AWSRequest]]:
    local, aws = "http://127.0.0.1:8000/", "https://dynamodb.eu-west-1.amazonaws.com/"
    for url in (local, aws):
        yield "get", dynamodb_request("GetItem", {"TableName": "T", "Key": {"id": {"N": "1"}}}, url)
        yield "put", dynamodb_request("PutItem", {"TableName": "T", "Item": {"t": {"S": "é"}}}, url)
    yield "ipv6 host", dynamodb_request("Scan", {"TableName": "T"}, "http://[::1]:8000/")
    yield "port", dynamodb_request("Scan", {}, "https://example.com:4443/")
    spaced = dynamodb_request("Query", {}, local)
    spaced.headers["X-Custom"] = "  two   spaces  "
    spaced.headers.add_header("x-custom", "second")
    yield "repeated and spaced headers", spaced
    hosted = dynamodb_request("Scan", {}, local)
    hosted.headers["Host"] = "explicit.example"
    yield "explicit host", hosted
    query = AWSRequest(method="GET", url=aws + "path/a b?b=2&a=1", headers={}, data=b"")
    yield "query string and path", query
    params = AWSRequest(method="GET", url=aws, headers={}, params={"z": "1", "a": "x y"})
    yield "params", params
    unsigned = dynamodb_request("Scan", {}, aws)
    unsigned.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    yield "content hash given", unsigned
    # Bodies botocore reads its own way (the signer hashes only non-empty bytes itself).
    yield "empty body", AWSRequest(method="POST", url=local, headers={}, data=b"")
    yield "str body", AWSRequest(method="POST", url=local, headers={}, data='{"é": 1}')
    yield "file body", AWSRequest(method="POST", url=local, headers={}, data=io.BytesIO(b"{}"))
    yield "form body", AWSRequest(method="POST", url=aws, headers={}, data={"a": "b c"})
    unsigned_payload = dynamodb_request("Scan", {}, aws)
    unsigned_payload.context["payload_signing_enabled"] = False
    yield "payload signing off over https", unsigned_payload
    trailer = dynamodb_request("Scan", {}, aws)
    trailer.context["checksum"] = {"request_algorithm": {"in": "trailer", "algorithm": "crc32"}}
    yield "streaming checksum trailer", trailer
    resigned = dynamodb_request("GetItem", {}, local)
    resigned.headers["Authorization"] = "an earlier attempt's"
    resigned.headers["X-Amz-Date"] = "20200101T000000Z"
    yield "retry of a signed request", resigned


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime.datetime]:
    return freeze_botocore_clock(monkeypatch)


def signed(cls: type[SigV4Auth], request: AWSRequest, credentials: ReadOnlyCredentials) -> Any:
    data = request.data
    if isinstance(data, io.BytesIO):  # a fresh stream each time, at the same position
        data = io.BytesIO(data.getvalue())
    copy = AWSRequest(
        method=request.method, url=request.url, data=data, params=dict(request.params)
    )
    copy.context.update(request.context)
    for name, value in request.headers.items():  # repeated names kept
        copy.headers.add_header(name, value)
    cls(credentials, "dynamodb", "eu-west-1").add_auth(copy)
    return list(copy.headers.items())


@pytest.mark.parametrize("credentials", [KEYS, SESSION_KEYS], ids=["keys", "session-token"])
@pytest.mark.parametrize(("name", "request_"), list(odd_requests()), ids=lambda v: str(v)[:30])
def test_signatures_equal_botocores_byte_for_byte(
    frozen_clock: list[datetime.datetime],
    name: str,
    request_: AWSRequest,
    credentials: ReadOnlyCredentials,
) -> None:
    ours = signed(signer.CachedKeySigV4Auth, request_, credentials)
    assert ours == signed(SigV4Auth, request_, credentials)
    assert any(header == "Authorization" for header, _ in ours)


def test_the_signing_key_changes_with_the_day_region_and_secret(
    frozen_clock: list[datetime.datetime],
) -> None:
    request = dynamodb_request("GetItem", {}, "http://127.0.0.1:8000/")
    seen = set()
    for moment in (MOMENT, MOMENT + datetime.timedelta(seconds=1)):  # across midnight
        frozen_clock[0] = moment
        for credentials in (KEYS, SESSION_KEYS):
            ours = signed(signer.CachedKeySigV4Auth, request, credentials)
            assert ours == signed(SigV4Auth, request, credentials)
            seen.add(dict(ours)["Authorization"])
    assert len(seen) == 4
    for region in ("us-east-1", "eu-west-1"):
        mine = AWSRequest(method="POST", url="http://127.0.0.1:8000/", data=b"{}")
        theirs = AWSRequest(method="POST", url="http://127.0.0.1:8000/", data=b"{}")
        signer.CachedKeySigV4Auth(KEYS, "dynamodb", region).add_auth(mine)
        SigV4Auth(KEYS, "dynamodb", region).add_auth(theirs)
        assert mine.headers["Authorization"] == theirs.headers["Authorization"]


def test_headers_asked_for_outside_a_signature_are_the_requests_current_ones() -> None:
    request = dynamodb_request("GetItem", {}, "http://127.0.0.1:8000/")
    auth = signer.CachedKeySigV4Auth(KEYS, "dynamodb", "eu-west-1")
    assert "x-later" not in auth.headers_to_sign(request)
    request.headers["X-Later"] = "added"
    assert auth.headers_to_sign(request)["x-later"] == ["added"]
    auth.add_auth(request)
    request.headers["X-After"] = "signed"
    assert auth.headers_to_sign(request)["x-after"] == ["signed"]


def test_a_bytes_payload_is_hashed_without_preparing_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # botocore's `request.body` prepares the whole request; the endpoint prepares it again to
    # send it. The signer reads the serializer's bytes instead (same hash, checked above).
    request = dynamodb_request("GetItem", {"TableName": "T"}, "http://127.0.0.1:8000/")
    stock = SigV4Auth(KEYS, "dynamodb", "eu-west-1").payload(request)

    def prepared(self: AWSRequest) -> Any:
        raise AssertionError("the signer prepared the request to read its body")

    monkeypatch.setattr(AWSRequest, "prepare", prepared)
    assert signer.CachedKeySigV4Auth(KEYS, "dynamodb", "eu-west-1").payload(request) == stock


def test_botocore_still_has_what_the_signer_builds_on() -> None:
    """If this fails, botocore changed: re-check sdk/signer.py before upgrading."""
    for method in (
        "headers_to_sign",
        "signature",
        "add_auth",
        "canonical_headers",
        "payload",
        "_is_streaming_checksum_payload",
        "_should_sha256_sign_payload",
    ):
        assert callable(getattr(SigV4Auth, method, None)), method
    assert botocore.auth.SIGNED_HEADERS_BLACKLIST
    assert botocore.auth._host_from_url("http://[::1]:8000/x") == "[::1]:8000"
    signer.register()
    assert botocore.auth.AUTH_TYPE_MAPS[signer.SIGNATURE_VERSION] is signer.CachedKeySigV4Auth


async def signed_calls(open_: Any) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    """Each service operation, signed by the given client and stopped before it is sent: the
    signature versions chosen, and the URLs and headers that would have been sent."""
    chosen: list[str] = []
    sent: list[tuple[str, dict[str, Any]]] = []

    def capture(signature_version: str = "", **_: Any) -> None:
        chosen.append(signature_version)

    async with open_ as client:
        client.meta.events.register("before-sign.dynamodb", capture)
        stop_before_sending(client, sent)
        key = {"id": {"N": "1"}}
        calls = [
            client.get_item(TableName="T", Key=key, ConsistentRead=True),
            client.put_item(TableName="T", Item=key),
            client.update_item(
                TableName="T",
                Key=key,
                UpdateExpression="SET a = :a",
                ExpressionAttributeValues={":a": {"N": "1"}},
            ),
            client.delete_item(TableName="T", Key=key),
            client.scan(TableName="T", Limit=50),
            client.query(
                TableName="T",
                IndexName="byOwner",
                KeyConditionExpression="o = :o",
                ExpressionAttributeValues={":o": {"S": "x"}},
            ),
            client.describe_table(TableName="T"),
        ]
        for call in calls:
            with pytest.raises(Stop):
                await call
    return chosen, sent


@pytest.mark.parametrize("endpoint_url", [None, "http://127.0.0.1:8000"], ids=["aws", "local"])
async def test_the_service_client_signs_every_operation_with_the_signer_as_botocore_would(
    frozen_clock: list[datetime.datetime],
    monkeypatch: pytest.MonkeyPatch,
    endpoint_url: str | None,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEYS.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEYS.secret_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    # The one signed header that differs between two calls: botocore's invocation id.
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=7))
    options = ClientOptions(endpoint_url=endpoint_url, region="eu-west-1")
    chosen_ours, sent_ours = await signed_calls(
        open_client(dataclasses.replace(options, speedups="on"))
    )
    stock_config = client_config(options).merge(AioConfig(signature_version="v4"))
    stock = aioboto3.Session().client(
        "dynamodb", region_name="eu-west-1", endpoint_url=endpoint_url, config=stock_config
    )
    chosen_theirs, sent_theirs = await signed_calls(stock)
    assert chosen_ours == [signer.SIGNATURE_VERSION] * 7
    assert chosen_theirs == ["v4"] * 7
    assert len(sent_ours) == 7
    assert sent_ours == sent_theirs
