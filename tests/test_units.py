"""Pure domain pieces: ids, cursors, text rules, settings. No server needed."""

from __future__ import annotations

import json
import logging
import time

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from todo_service.api.access_log import JsonAccessLogger
from todo_service.api.metrics import Metrics
from todo_service.api.responses import ERROR_CODE
from todo_service.domain.cursor import CursorCodec
from todo_service.domain.errors import InvalidCursor, InvalidInput
from todo_service.domain.ids import SEQUENCE_BITS, IdGenerator
from todo_service.domain.todo import MAX_ID, clean_text, parse_id
from todo_service.logs import JsonFormatter
from todo_service.settings import Settings, SettingsError, settings_from_env


def test_ids_are_unique_time_ordered_and_browser_safe() -> None:
    generator = IdGenerator()
    ids = [generator.next_id() for _ in range(20_000)]  # more than 4096 in some millisecond
    assert len(set(ids)) == len(ids)
    milliseconds = [i >> SEQUENCE_BITS for i in ids]
    assert milliseconds == sorted(milliseconds)
    assert all(0 < i <= MAX_ID for i in ids)


def test_two_generators_rarely_collide_and_differ_in_sequence() -> None:
    a, b = IdGenerator(), IdGenerator()
    assert {a.next_id() for _ in range(100)} != {b.next_id() for _ in range(100)}


def test_cursor_round_trips_and_refuses_tampering_and_foreign_tables() -> None:
    codec = CursorCodec("TodoTable", "s" * 32)
    cursor = codec.encode(123456789)
    assert codec.decode(cursor) == 123456789
    with pytest.raises(InvalidCursor, match="altered"):
        CursorCodec("OtherTable", "s" * 32).decode(cursor)
    with pytest.raises(InvalidCursor, match="altered"):
        CursorCodec("TodoTable", "t" * 32).decode(cursor)
    with pytest.raises(InvalidCursor, match="malformed"):
        codec.decode(cursor[:-3])
    with pytest.raises(InvalidCursor, match="malformed") as malformed:
        codec.decode("%%%")
    # The next page is named by the list's Link header, which is where the message points.
    assert "Link" in malformed.value.message
    assert "'next' value" not in malformed.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        (str(MAX_ID), MAX_ID),
        ("0", None),
        ("-1", None),
        ("01", None),
        ("1.0", None),
        ("1e3", None),
        ("+1", None),
        (str(MAX_ID + 1), None),
        ("١٢", None),
        ("", None),
    ],
)
def test_parse_id_accepts_only_canonical_positive_integers(raw: str, expected: int | None) -> None:
    assert parse_id(raw) == expected


def test_clean_text_trims_and_enforces_rules() -> None:
    assert clean_text("  hi  ") == "hi"
    assert clean_text("emoji 👍 and 中文") == "emoji 👍 and 中文"
    for bad, part in [("", "empty"), ("\n\t ", "empty"), ("a\nb", "control"), ("x" * 1001, "1000")]:
        with pytest.raises(InvalidInput, match=part):
            clean_text(bad)


def test_settings_defaults_and_env() -> None:
    assert settings_from_env({}) == Settings()
    settings = settings_from_env(
        {
            "TODO_PORT": "9000",
            "TODO_CORS_ORIGINS": "http://a.test, https://b.test:8443/",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
            "TODO_LOG_LEVEL": "debug",
        }
    )
    assert settings.port == 9000
    assert settings.cors_origins == ("http://a.test", "https://b.test:8443")
    assert settings.region == "eu-west-1"
    assert settings.log_level == "DEBUG"
    assert (
        settings_from_env({"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "x"}).region
        == "us-west-2"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TODO_PORT": "http"}, "TODO_PORT"),
        ({"TODO_PORT": "70000"}, "TODO_PORT"),
        ({"TODO_LOG_LEVEL": "LOUD"}, "TODO_LOG_LEVEL"),
        ({"AWS_ENDPOINT_URL_DYNAMODB": "localhost:8000"}, "AWS_ENDPOINT_URL_DYNAMODB"),
        ({"TODO_CORS_ORIGINS": "example.com"}, "TODO_CORS_ORIGINS"),
        ({"TODO_TABLE_NAME": "no spaces allowed"}, "TODO_TABLE_NAME"),
        ({"TODO_DYNAMODB_TIMEOUT_S": "-1"}, "TODO_DYNAMODB_TIMEOUT_S"),
        ({"TODO_DYNAMODB_MAX_CONNECTIONS": "0"}, "TODO_DYNAMODB_MAX_CONNECTIONS"),
        ({"TODO_CURSOR_SECRET": "short"}, "TODO_CURSOR_SECRET"),
    ],
)
def test_bad_setting_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from_env(env)


def test_only_dev_may_start_cognito_mode_before_it_has_a_pool() -> None:
    """`dev` creates its pool on the embedded server; everything else must be given one."""
    with pytest.raises(SettingsError, match="TODO_COGNITO_USER_POOL_ID"):
        settings_from_env({"TODO_AUTH": "cognito"})
    settings = settings_from_env({"TODO_AUTH": "cognito"}, require_pool=False)
    assert (settings.auth_mode, settings.cognito_user_pool_id) == ("cognito", None)
    with pytest.raises(SettingsError, match="TODO_AUTH"):
        settings_from_env({"TODO_AUTH": "magic"}, require_pool=False)


def test_json_log_times_stay_exact_across_seconds() -> None:
    # The formatter keeps the second's text between lines; each line still has its own time.
    formatter = JsonFormatter()
    for created in (1764633599.998, 1764633599.999, 1764633600.0, 1764633600.5, 1764633599.25):
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "m", None, None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        line = json.loads(formatter.format(record))
        expected = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(created)))
        assert line["time"] == f"{expected}.{int(record.msecs):03d}Z"


async def _unused_handler(request: web.Request) -> web.Response:
    return web.Response()


async def test_access_log_line_has_every_field_and_follows_the_level() -> None:
    records: list[logging.LogRecord] = []
    logger = logging.getLogger("test.access")
    logger.propagate = False
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    access = JsonAccessLogger(logger, "")
    app = web.Application()
    app.router.add_get("/todos/{id}", _unused_handler)
    request = make_mocked_request("GET", "/todos/7", app=app)
    request._match_info = await app.router.resolve(request)  # as the app's routing sets it
    request[ERROR_CODE] = "not_found"  # as an error answer notes it
    response = web.Response(status=404, headers={"X-Request-ID": "rid"})
    assert access.enabled
    access.log(request, response, 0.0123456)
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["message"] == "request"
    assert line["requestId"] == "rid"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/todos/7", 404)
    assert (line["route"], line["errorCode"]) == ("/todos/{id}", "not_found")
    assert "authReason" not in line
    assert "traceId" not in line
    assert line["durationMs"] == 12.35
    logger.setLevel(logging.WARNING)
    assert not access.enabled


async def test_metrics_series_are_the_registrys_own() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    app.router.add_get("/todos/{id}", handler)
    request = make_mocked_request("GET", "/todos/7", app=app)
    request._match_info = await app.router.resolve(request)  # as the app sets it
    metrics = Metrics()
    for status in (200, 200, 404):
        metrics.observe_request(request, status, 0.01)
    text = metrics.exposition().decode()
    ok, missing = '{method="GET",route="/todos/{id}",status="%s"}', "404"
    assert f"todo_http_requests_total{ok % 200} 2.0" in text
    assert f"todo_http_request_duration_seconds_count{ok % 200} 2.0" in text
    assert f"todo_http_requests_total{ok % missing} 1.0" in text
