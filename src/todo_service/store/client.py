"""The one aioboto3 DynamoDB client: how it is configured and opened.

The app opens it once for its whole life (see app.py); the CLI commands open it once per run.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Final

import aioboto3
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from todo_service import __version__
from todo_service.settings import Settings
from todo_service.store import signer
from todo_service.store.endpoints import cache_endpoints
from todo_service.store.response_parser import ItemParserFactory

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

# A refused or black-holed connection should fail fast so that a retry, or a 503, comes soon.
CONNECT_TIMEOUT_S: Final = 1.0
# "standard" retries throttling and transient errors with jittered exponential backoff, and
# its retry quota stops a struggling table from being hammered by our own retries.
RETRY_MODE: Final = "standard"
MAX_ATTEMPTS: Final = 3
# A fixed User-Agent. Left unset, botocore rebuilds the header from a dozen sanitized parts
# twice for every call, which profiled at about 12% of the service's CPU under load.
# aiobotocore's session appends "botocore/<version>" to it (its user_agent_extra).
USER_AGENT: Final = f"todo-service/{__version__}"


def client_config(settings: Settings) -> AioConfig:
    signer.register()
    return AioConfig(
        max_pool_connections=settings.dynamodb_max_connections,
        connect_timeout=min(CONNECT_TIMEOUT_S, settings.dynamodb_timeout_s),
        read_timeout=settings.dynamodb_timeout_s,
        retries={"mode": RETRY_MODE, "total_max_attempts": MAX_ATTEMPTS},
        tcp_keepalive=True,
        user_agent=USER_AGENT,
        # Safe only because we validate before botocore sees anything: the HTTP layer checks
        # every input (todo.py, handlers.py), the repository builds every parameter itself, and
        # the seed loader validates the whole file first (seed.py). botocore's walk of the
        # input shapes would check what is already known good, at every call (~3% of CPU);
        # DynamoDB itself still rejects anything malformed with a ValidationException.
        parameter_validation=False,
        # SigV4 as botocore signs it, without the work it repeats per call (store/signer.py).
        signature_version=signer.SIGNATURE_VERSION,
    )


def botocore_session() -> AioSession:
    """A botocore session whose clients parse DynamoDB's answers with `ItemParser`."""
    session = AioSession()
    # The session's documented way to swap a component: clients made from it take their
    # response parsers from this factory.
    session.register_component("response_parser_factory", ItemParserFactory())
    return session


@contextlib.asynccontextmanager
async def open_client(settings: Settings) -> AsyncIterator[DynamoDBClient]:
    session = aioboto3.Session(botocore_session=botocore_session())
    async with session.client(
        "dynamodb",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=client_config(settings),
    ) as client:
        cache_endpoints(client)
        yield client
