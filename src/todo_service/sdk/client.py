"""The one aioboto3 DynamoDB client: how it is configured and opened.

The app opens it once for its whole life (app.py); the CLI commands open it once per run.
Callers hand it the values it needs (`ClientOptions`), never the service's settings.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Final

import aioboto3
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from todo_service import __version__
from todo_service.sdk.switch import DEFAULT_SPEEDUP_MODE, SpeedupMode, speedups_enabled

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

# A refused or black-holed connection should fail fast so that a retry, or a 503, comes soon.
CONNECT_TIMEOUT_S: Final = 1.0
# "standard" retries throttling and transient errors with jittered exponential backoff, and
# its retry quota stops a struggling table from being hammered by our own retries.
RETRY_MODE: Final = "standard"
MAX_ATTEMPTS: Final = 3
# A fixed User-Agent. Left unset, botocore rebuilds the header from a dozen sanitized parts
# twice for every call, a large share of the service's CPU under load (docs/performance.md).
# aiobotocore's session appends "botocore/<version>" to it (its user_agent_extra).
USER_AGENT: Final = f"todo-service/{__version__}"


@dataclasses.dataclass(frozen=True, slots=True)
class ClientOptions:
    # None lets botocore resolve the region from its config files, as the AWS CLI does.
    region: str | None = None
    # None means "real AWS": botocore then resolves the regional endpoint itself.
    endpoint_url: str | None = None
    # The read timeout; the repository bounds a whole call, retries included, by its own
    # deadline of the same length.
    timeout_s: float = 5.0
    # aiobotocore's default pool of 10 connections queues requests under load.
    max_connections: int = 128
    speedups: SpeedupMode = DEFAULT_SPEEDUP_MODE


def client_config(options: ClientOptions) -> AioConfig:
    """The public configuration, the same whether or not the speed-ups are on."""
    return AioConfig(
        max_pool_connections=options.max_connections,
        connect_timeout=min(CONNECT_TIMEOUT_S, options.timeout_s),
        read_timeout=options.timeout_s,
        retries={"mode": RETRY_MODE, "total_max_attempts": MAX_ATTEMPTS},
        tcp_keepalive=True,
        user_agent=USER_AGENT,
        # Safe only because we validate before botocore sees anything: the HTTP layer checks
        # every input (todo.py, handlers.py), the repository builds every parameter itself, and
        # the seed loader validates the whole file first (seed.py). botocore's walk of the
        # input shapes would check what is already known good, at every call;
        # DynamoDB itself still rejects anything malformed with a ValidationException.
        parameter_validation=False,
    )


@contextlib.asynccontextmanager
async def open_client(options: ClientOptions) -> AsyncIterator[DynamoDBClient]:
    """A DynamoDB client for `options`, with the speed-ups if the switch and the SDK allow.

    Raises switch.UnverifiedSdk for TODO_SDK_SPEEDUPS=on on an SDK they were not verified on.
    """
    config = client_config(options)
    if speedups_enabled(options.speedups):
        # Imported only here: with the speed-ups off, not even their imports run.
        from todo_service.sdk import speedups

        session, config = speedups.session(), config.merge(speedups.config())
        tune = speedups.tune
    else:
        session, tune = AioSession(), None
    async with aioboto3.Session(botocore_session=session).client(
        "dynamodb",
        region_name=options.region,
        endpoint_url=options.endpoint_url,
        config=config,
    ) as client:
        if tune is not None:
            tune(client)
        yield client
