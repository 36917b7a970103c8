"""The speed-ups, applied together to one client: its session, its config, and the client.

Each replaces work botocore repeats on every call with the same answer (docs/performance.md):
- `response_parser.ItemParserFactory`: DynamoDB's answers read without botocore's walk of the
  output shape where the walk would hand every value back unchanged;
- `signer.CachedKeySigV4Auth`: SigV4 as botocore signs it, without recomputing what changes
  once a day or once per endpoint;
- `endpoints.CachedEndpoints`: the endpoint resolved once per operation and table.

Only `client.py` imports this module, and only when `switch.speedups_enabled` says so: with the
switch off, nothing here runs, not even at import.
"""

from __future__ import annotations

from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from todo_service.sdk import signer
from todo_service.sdk.endpoints import cache_endpoints
from todo_service.sdk.response_parser import ItemParserFactory


def session() -> AioSession:
    """A botocore session whose clients parse DynamoDB's answers with `ItemParser`."""
    made = AioSession()
    # The session's documented way to swap a component: clients made from it take their
    # response parsers from this factory.
    made.register_component("response_parser_factory", ItemParserFactory())
    return made


def config() -> AioConfig:
    """What the speed-ups add to the client's public configuration: the signer."""
    signer.register()
    # botocore's documented option names the signer; `register` put ours in its table.
    return AioConfig(signature_version=signer.SIGNATURE_VERSION)


def tune(client: Any) -> None:
    """What can only be applied to a made client: the endpoint cache."""
    cache_endpoints(client)
