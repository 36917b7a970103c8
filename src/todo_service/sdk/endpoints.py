"""botocore's endpoint resolution, done once per operation and table instead of once per call.

Before every call, botocore (1.40) works out the endpoint URL from DynamoDB's endpoint ruleset:
it copies the client's built-in values (region, FIPS, dual-stack, endpoint URL, account id),
emits `before-endpoint-resolution.dynamodb`, resolves each of the ruleset's eight parameters
from the call's arguments, the client's settings and the credentials, and only then asks the
ruleset, whose own answer is cached. For a client those inputs change with the operation and
its table name alone (`ResourceArn` is the table name), so the answer does too, and keeping it
saves a measurable share of every call (docs/performance.md).

`CachedEndpoints` wraps the client's resolver and keeps its answer per (operation, values of
the operation's context parameters). What it takes as fixed for the client's life:
- the built-in values. They come from the client's configuration, and the account id from
  its credentials, whose refreshes stay in the same account;
- no handler of `before-endpoint-resolution.dynamodb` changes them per call. botocore
  registers none for DynamoDB and the service registers none; the event is emitted once per
  key, on the first call.
Skipped with them, on the calls that hit: botocore's note of which account-id features the
call used, which only reaches a User-Agent that botocore builds itself (the service's is
fixed: sdk/client.py).
Operations whose parameters come from a JMESPath over the arguments (`BatchWriteItem`'s
`ResourceArnList`: the keys of `RequestItems`) and arguments that are not hashable are
resolved every time, as botocore does.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final

# A service uses a handful of tables and operations; a bound keeps a client that is handed
# table names from outside from growing without end (past it, calls resolve as botocore does).
ANSWERS_KEPT: Final = 256


class CachedEndpoints:
    """An endpoint ruleset resolver whose answers are kept per operation and context values."""

    def __init__(self, resolver: Any) -> None:
        self._resolver = resolver
        self._answers: dict[Hashable, Any] = {}
        # Per operation: the argument names its context parameters are read from, or None
        # when one of them is not a plain argument.
        self._members: dict[str, tuple[str, ...] | None] = {}

    def __getattr__(self, name: str) -> Any:
        # Everything else botocore asks of the resolver (auth_schemes_to_signing_ctx, ...).
        return getattr(self._resolver, name)

    async def construct_endpoint(
        self, operation_model: Any, call_args: Any, request_context: Any
    ) -> Any:
        key = self._key(operation_model, call_args)
        answer = self._answers.get(key) if key is not None else None
        if answer is None:
            answer = await self._resolver.construct_endpoint(
                operation_model=operation_model,
                call_args=call_args,
                request_context=request_context,
            )
            if key is not None and len(self._answers) < ANSWERS_KEPT:
                self._answers[key] = answer
        return answer

    def _key(self, operation_model: Any, call_args: Any) -> Hashable | None:
        name = operation_model.name
        if name not in self._members:
            self._members[name] = (
                None
                if operation_model.operation_context_parameters
                else tuple(param.member_name for param in operation_model.context_parameters)
            )
        members = self._members[name]
        if members is None:
            return None
        args = call_args or {}
        key = (name, *(args.get(member) for member in members))
        try:
            hash(key)
        except TypeError:
            return None
        return key


def cache_endpoints(client: Any) -> None:
    """Resolve `client`'s endpoints once per operation and table (see the module's docstring).

    botocore keeps the resolver in the client's private `_ruleset_resolver` and asks it through
    `construct_endpoint(operation_model=, call_args=, request_context=)`;
    tests/test_endpoints.py fails if an upgrade changes either.
    """
    resolver = client._ruleset_resolver
    if resolver is not None and not isinstance(resolver, CachedEndpoints):
        client._ruleset_resolver = CachedEndpoints(resolver)
