"""Service configuration, read once from the environment and validated before anything starts.

The AWS SDK's own variables (``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_REGION``,
``AWS_DEFAULT_REGION`` and the credential chain) are used as they are, so that the
AWS CLI and the service share one setup. Our own settings carry the ``TODO_`` prefix.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from todo_service.sdk.client import ClientOptions
from todo_service.sdk.switch import (
    DEFAULT_SPEEDUP_MODE,
    SPEEDUP_MODES,
    SpeedupMode,
    UnverifiedSdk,
    speedups_enabled,
)
from todo_service.store.table import DEFAULT_TABLE_NAME

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_N = TypeVar("_N", int, float)


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable and the fix."""


@dataclasses.dataclass(frozen=True, slots=True)
class TracingSettings:
    """OpenTelemetry's standard variables, as the service reads them (api/tracing.py)."""

    # "none" (tracing off), "otlp" (OTLP over HTTP/protobuf to `endpoint`) or "console".
    exporter: str = "none"
    endpoint: str | None = None
    # The share of requests traced, drawn by the service for each one (never the caller).
    ratio: float = 1.0
    service_name: str = "todo-service"

    @property
    def enabled(self) -> bool:
        return self.exporter != "none"


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    table_name: str = DEFAULT_TABLE_NAME
    host: str = "0.0.0.0"
    port: int = 8080
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    # None means "real AWS": botocore then resolves the regional endpoint itself.
    endpoint_url: str | None = None
    # None lets botocore resolve the region from its config files, as the AWS CLI does.
    region: str | None = None
    # One deadline for a whole DynamoDB call, retries included; past it the API answers 503.
    dynamodb_timeout_s: float = 5.0
    # aiobotocore's default pool of 10 connections queues requests under load.
    dynamodb_max_connections: int = 128
    # Signs list cursors. Unset: a random key per process (cursors then die with the process).
    cursor_secret: str | None = None
    # Where the web page's script sends its API calls: an http(s) base URL, "" = same origin.
    web_api_url: str = ""
    # Who may call /todos: "none" (one shared list, no sign-in) or "cognito" (a Cognito
    # access token on every /todos request; see docs/auth.md).
    auth_mode: str = "none"
    cognito_user_pool_id: str | None = None
    cognito_client_id: str | None = None
    # Local only: the issuer names AWS's host, while moto or cognito-local serves the keys on
    # its own port. Required for a cognito-local pool (local_<id>).
    cognito_jwks_url: str | None = None
    # An unknown key id refetches the pool's keys at most this often (keys rotate rarely;
    # a flood of forged kids must not become a flood of fetches).
    cognito_jwks_min_refetch_s: float = 60.0
    # The SDK speed-ups (sdk/switch.py): on where verified, off elsewhere (auto), or forced.
    sdk_speedups: SpeedupMode = DEFAULT_SPEEDUP_MODE
    # Load shedding (api/shedding.py): requests one worker works on at once, and how long a
    # request may wait for one of those slots before it is refused (503 overloaded).
    max_in_flight: int = 64
    max_queue_wait_ms: int = 100
    # Per-user token buckets (api/ratelimit.py, TODO_AUTH=cognito): a sustained rate per
    # second and a burst, for reads and for writes; a rate of 0 turns that limit off.
    rate_limit_reads: float = 20.0
    rate_limit_read_burst: int = 60
    rate_limit_writes: float = 5.0
    rate_limit_write_burst: int = 30
    # The most todos one user may keep (store/quotas.py, TODO_AUTH=cognito); 0: no limit.
    max_todos_per_user: int = 5000
    tracing: TracingSettings = dataclasses.field(default_factory=TracingSettings)

    @property
    def cognito_region(self) -> str:
        """The pool's region: its id's prefix, as in us-east-1_AbC123 (cognito-local's: local)."""
        return (self.cognito_user_pool_id or "").partition("_")[0]

    @property
    def cognito_issuer(self) -> str:
        return f"{cognito_issuer_domain(self.cognito_region)}/{self.cognito_user_pool_id}"

    @property
    def cognito_jwks(self) -> str:
        return self.cognito_jwks_url or f"{self.cognito_issuer}/.well-known/jwks.json"

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def client_options(self) -> ClientOptions:
        """What the DynamoDB client needs of these settings (sdk/client.py)."""
        return ClientOptions(
            region=self.region,
            endpoint_url=self.endpoint_url,
            timeout_s=self.dynamodb_timeout_s,
            max_connections=self.dynamodb_max_connections,
            speedups=self.sdk_speedups,
        )

    def with_cognito(
        self, user_pool_id: str, client_id: str, jwks_url: str | None = None
    ) -> Settings:
        """These settings with TODO_AUTH=cognito against a pool (a local one: `jwks_url`)."""
        return self.replace(
            auth_mode="cognito",
            cognito_user_pool_id=user_pool_id,
            cognito_client_id=client_id,
            cognito_jwks_url=jwks_url,
        )


def _number(name: str, raw: str, kind: type[_N], accept: Callable[[_N], bool], rule: str) -> _N:
    """`raw` parsed as `kind` and accepted by `accept`; SettingsError stating `rule` otherwise."""
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not {rule}") from None
    if not accept(value):
        raise SettingsError(f"{name}={raw!r} is out of range: it must be {rule}")
    return value


def _port(name: str, raw: str) -> int:
    return _number(name, raw, int, lambda port: 0 <= port <= 65535, "a port number (0-65535)")


def _seconds(name: str, raw: str) -> float:
    # `0 < s < inf` also refuses nan.
    return _number(name, raw, float, lambda s: 0 < s < math.inf, "a positive number of seconds")


def _http_url(name: str, raw: str) -> str:
    try:
        parts = urlsplit(raw)
    except ValueError:  # such as an unclosed IPv6 bracket
        raise SettingsError(f"{name}={raw!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name}={raw!r} is not an http(s) URL such as http://127.0.0.1:8000")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise SettingsError(f"{name}={raw!r} has an invalid port") from None
    return raw


# Characters that would end a CSP source expression or a quoted string if they reached one.
_UNSAFE_URL_CHARS = frozenset(" \t\r\n;,'\"\\<>`")


def _api_base_url(name: str, raw: str) -> str:
    """An API base URL for the web page: scheme://host[:port][/path] or "" (same origin).

    It goes into the generated config.js and into the page's Content-Security-Policy, so
    anything that could break out of either is refused rather than escaped.
    """
    if raw == "":
        return raw
    if not raw.isascii() or not raw.isprintable() or set(raw) & _UNSAFE_URL_CHARS:
        raise SettingsError(f"{name}={raw!r} contains characters a URL must not have")
    _http_url(name, raw)
    if "@" in raw or "?" in raw or "#" in raw:
        raise SettingsError(
            f"{name}={raw!r} must be a base URL without user, query or fragment, "
            "such as https://api.example.com"
        )
    return raw.rstrip("/")


def _origins(name: str, raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin == "*":
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
            raise SettingsError(
                f"{name}: {origin!r} is not an origin such as https://todo.example.com "
                "(scheme://host[:port], comma-separated, or *)"
            )
    return origins


def _table_name(name: str, raw: str) -> str:
    # DynamoDB's own rule for table names; checking here beats a ValidationException later.
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
    if not 3 <= len(raw) <= 255 or not set(raw) <= allowed:
        raise SettingsError(f"{name}={raw!r} is not a DynamoDB table name ([A-Za-z0-9_.-], 3-255)")
    return raw


def settings_from_env(env: Mapping[str, str], *, require_pool: bool = True) -> Settings:
    """Build settings from environment variables; raise SettingsError on the first bad one.

    `require_pool=False` is for `dev`, which creates its own user pool on the embedded server
    (create_app checks the pool once it is there).
    """

    def get(name: str) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else None

    values: dict[str, object] = {}
    if (raw := get("TODO_TABLE_NAME")) is not None:
        values["table_name"] = _table_name("TODO_TABLE_NAME", raw)
    if (raw := get("TODO_HOST")) is not None:
        values["host"] = raw
    if (raw := get("TODO_PORT")) is not None:
        values["port"] = _port("TODO_PORT", raw)
    if (raw := get("TODO_CORS_ORIGINS")) is not None:
        values["cors_origins"] = _origins("TODO_CORS_ORIGINS", raw)
    if (raw := get("TODO_LOG_LEVEL")) is not None:
        level = raw.upper()
        if level not in LOG_LEVELS:
            raise SettingsError(f"TODO_LOG_LEVEL={raw!r} must be one of {', '.join(LOG_LEVELS)}")
        values["log_level"] = level
    if (raw := get("AWS_ENDPOINT_URL_DYNAMODB")) is not None:
        values["endpoint_url"] = _http_url("AWS_ENDPOINT_URL_DYNAMODB", raw)
    region = get("AWS_REGION") or get("AWS_DEFAULT_REGION")
    if region is not None:
        values["region"] = region
    if (raw := get("TODO_DYNAMODB_TIMEOUT_S")) is not None:
        values["dynamodb_timeout_s"] = _seconds("TODO_DYNAMODB_TIMEOUT_S", raw)
    if (raw := get("TODO_DYNAMODB_MAX_CONNECTIONS")) is not None:
        values["dynamodb_max_connections"] = _number(
            "TODO_DYNAMODB_MAX_CONNECTIONS",
            raw,
            int,
            lambda count: 1 <= count <= 10_000,
            "a whole number from 1 to 10000",
        )
    if (raw := get("TODO_CURSOR_SECRET")) is not None:
        if len(raw) < 16:
            raise SettingsError("TODO_CURSOR_SECRET must be at least 16 characters long")
        values["cursor_secret"] = raw
    if (raw := get("TODO_WEB_API_URL")) is not None:
        values["web_api_url"] = _api_base_url("TODO_WEB_API_URL", raw)
    if (raw := get("TODO_SDK_SPEEDUPS")) is not None:
        values["sdk_speedups"] = _speedups("TODO_SDK_SPEEDUPS", raw)
    values.update(_limit_values(get))
    values["tracing"] = tracing_from_env(get)
    values.update(_auth_values(get))
    settings = Settings(**values)  # type: ignore[arg-type]
    return check_auth(settings) if require_pool else settings


def _speedups(name: str, raw: str) -> SpeedupMode:
    mode = raw.lower()
    for known in SPEEDUP_MODES:
        if mode == known:
            break
    else:
        raise SettingsError(f"{name}={raw!r} must be one of {', '.join(SPEEDUP_MODES)}")
    if known == "on":
        # On an SDK the speed-ups were not verified on, `on` refuses to start, here, in one line.
        try:
            speedups_enabled(known)
        except UnverifiedSdk as error:
            raise SettingsError(str(error)) from None
    return known


# Each limit's variable, field, type and range (see the fields of Settings).
_LIMITS: tuple[tuple[str, str, type[int] | type[float], float, float], ...] = (
    ("TODO_MAX_IN_FLIGHT", "max_in_flight", int, 1, 100_000),
    ("TODO_MAX_QUEUE_WAIT_MS", "max_queue_wait_ms", int, 0, 60_000),
    ("TODO_RATE_LIMIT_READS", "rate_limit_reads", float, 0, 1_000_000),
    ("TODO_RATE_LIMIT_READ_BURST", "rate_limit_read_burst", int, 1, 1_000_000),
    ("TODO_RATE_LIMIT_WRITES", "rate_limit_writes", float, 0, 1_000_000),
    ("TODO_RATE_LIMIT_WRITE_BURST", "rate_limit_write_burst", int, 1, 1_000_000),
    ("TODO_MAX_TODOS_PER_USER", "max_todos_per_user", int, 0, 1_000_000_000),
)


def _bounded(name: str, raw: str, kind: type[int] | type[float], low: float, high: float) -> float:
    # NaN and infinity fail the comparison, so they are refused like any number out of range.
    if kind is int:
        rule = f"a whole number from {low:g} to {high:g}"
        return _number(name, raw, int, lambda value: low <= value <= high, rule)
    return _number(
        name, raw, float, lambda value: low <= value <= high, f"a number from {low:g} to {high:g}"
    )


def _limit_values(get: Callable[[str], str | None]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, field, kind, low, high in _LIMITS:
        if (raw := get(name)) is not None:
            values[field] = _bounded(name, raw, kind, low, high)
    return values


TRACE_EXPORTERS = ("otlp", "console", "none")
# The SDK's sampler names, and the share each traces (None: OTEL_TRACES_SAMPLER_ARG's). The
# parent-based ones are accepted, but a parent from outside never decides (api/tracing.py).
TRACE_SAMPLERS: dict[str, float | None] = {
    "always_on": 1.0,
    "always_off": 0.0,
    "traceidratio": None,
    "parentbased_always_on": 1.0,
    "parentbased_always_off": 0.0,
    "parentbased_traceidratio": None,
}
OTLP_PROTOCOL = "http/protobuf"
OTLP_TRACES_PATH = "/v1/traces"


def tracing_from_env(get: Callable[[str], str | None]) -> TracingSettings:
    """OpenTelemetry's standard OTEL_* variables, checked. Unlike the specification, whose
    default exporter is otlp, tracing is off unless an exporter or an OTLP endpoint is named:
    a service started with none of them must not try to send spans anywhere."""
    endpoint = None
    if (raw := get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) is not None:
        endpoint = _http_url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raw)
    elif (raw := get("OTEL_EXPORTER_OTLP_ENDPOINT")) is not None:
        endpoint = _http_url("OTEL_EXPORTER_OTLP_ENDPOINT", raw).rstrip("/") + OTLP_TRACES_PATH
    exporter = "none" if endpoint is None else "otlp"
    if (raw := get("OTEL_TRACES_EXPORTER")) is not None:
        exporter = raw.strip().lower()
        if exporter not in TRACE_EXPORTERS:
            raise SettingsError(
                f"OTEL_TRACES_EXPORTER={raw!r} must be one of {', '.join(TRACE_EXPORTERS)}"
            )
    if (get("OTEL_SDK_DISABLED") or "").lower() == "true":
        exporter = "none"
    for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        if (raw := get(name)) is not None and raw != OTLP_PROTOCOL:
            raise SettingsError(f"{name}={raw!r}: only {OTLP_PROTOCOL} is supported")
    raw_sampler = (get("OTEL_TRACES_SAMPLER") or "parentbased_always_on").lower()
    if raw_sampler not in TRACE_SAMPLERS:
        raise SettingsError(
            f"OTEL_TRACES_SAMPLER={raw_sampler!r} must be one of {', '.join(TRACE_SAMPLERS)}"
        )
    ratio = TRACE_SAMPLERS[raw_sampler]
    if ratio is None:
        raw = get("OTEL_TRACES_SAMPLER_ARG")
        ratio = (
            1.0
            if raw is None
            else _number(
                "OTEL_TRACES_SAMPLER_ARG", raw, float, lambda r: 0 <= r <= 1, "a number from 0 to 1"
            )
        )
    defaults = TracingSettings()
    service_name = get("OTEL_SERVICE_NAME") or defaults.service_name
    return TracingSettings(exporter, endpoint, ratio, service_name)


AUTH_MODES = ("none", "cognito")
# Cognito's own patterns for a user pool id and an app client id.
_USER_POOL_ID = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+_[0-9A-Za-z]+")
_CLIENT_ID = re.compile(r"[\w+]{1,128}")
# cognito-local (an npm stand-in for Cognito, used by the tests) names its pools local_<id>.
# No AWS region is called "local", so such a pool is accepted only together with the local-only
# TODO_COGNITO_JWKS_URL: its keys are never looked for at AWS. Its issuer is derived like any
# other pool's; cognito-local is configured to issue exactly that (docs/auth.md).
LOCAL_POOL_REGION = "local"
_LOCAL_USER_POOL_ID = re.compile(rf"{LOCAL_POOL_REGION}_[0-9A-Za-z]+")


def cognito_issuer_domain(region: str) -> str:
    """What precedes `/<pool id>` in the `iss` of a pool's tokens: AWS's regional host."""
    return f"https://cognito-idp.{region}.amazonaws.com"


def _auth_values(get: Callable[[str], str | None]) -> dict[str, object]:
    values: dict[str, object] = {}
    if (raw := get("TODO_AUTH")) is not None:
        if raw.lower() not in AUTH_MODES:
            raise SettingsError(f"TODO_AUTH={raw!r} must be one of {', '.join(AUTH_MODES)}")
        values["auth_mode"] = raw.lower()
    if (raw := get("TODO_COGNITO_USER_POOL_ID")) is not None:
        values["cognito_user_pool_id"] = raw
    if (raw := get("TODO_COGNITO_CLIENT_ID")) is not None:
        values["cognito_client_id"] = raw
    if (raw := get("TODO_COGNITO_JWKS_URL")) is not None:
        values["cognito_jwks_url"] = _http_url("TODO_COGNITO_JWKS_URL", raw)
    if (raw := get("TODO_COGNITO_JWKS_MIN_REFETCH_S")) is not None:
        values["cognito_jwks_min_refetch_s"] = _seconds("TODO_COGNITO_JWKS_MIN_REFETCH_S", raw)
    return values


def check_auth(settings: Settings) -> Settings:
    """Cognito mode needs a well-formed pool and client: a start-up error, never a 500 later."""
    if settings.auth_mode != "cognito":
        return settings
    pool, client = settings.cognito_user_pool_id, settings.cognito_client_id
    if pool is None:
        raise SettingsError("TODO_AUTH=cognito needs TODO_COGNITO_USER_POOL_ID (us-east-1_AbC123)")
    if _LOCAL_USER_POOL_ID.fullmatch(pool):
        if settings.cognito_jwks_url is None:
            raise SettingsError(
                f"TODO_COGNITO_USER_POOL_ID={pool!r} is a cognito-local pool, accepted only with "
                "TODO_COGNITO_JWKS_URL (local use), such as "
                f"http://127.0.0.1:9229/{pool}/.well-known/jwks.json"
            )
    elif not _USER_POOL_ID.fullmatch(pool):
        raise SettingsError(
            f"TODO_COGNITO_USER_POOL_ID={pool!r} is not a user pool id such as us-east-1_AbC123"
        )
    if client is None:
        raise SettingsError("TODO_AUTH=cognito needs TODO_COGNITO_CLIENT_ID (the app client id)")
    if not _CLIENT_ID.fullmatch(client):
        raise SettingsError(f"TODO_COGNITO_CLIENT_ID={client!r} is not an app client id")
    return settings


def check_port_flag(raw: str) -> int:
    """argparse type for --port, with the same rule as TODO_PORT."""
    return _port("--port", raw)


def check_api_url_flag(raw: str) -> str:
    """--api-url, with the same rule as TODO_WEB_API_URL; raises SettingsError."""
    return _api_base_url("--api-url", raw)


def log_level_number(settings: Settings) -> int:
    return logging.getLevelNamesMapping()[settings.log_level]
