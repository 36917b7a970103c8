"""Cognito user-pool implementations for the auth tests, as backends.py is for DynamoDB.

`TODO_TEST_COGNITO` (comma-separated) picks them: `moto` (moto's Cognito IdP, in the embedded
server) and `cognito-local` (the npm package, on Node.js). The auth and ownership tests run
once per implementation. The first one named runs against every DynamoDB backend; the others
against the first DynamoDB backend only (`needed_combinations`): token checks do not depend on
the table's server, and every combination would double the auth suites' time in CI.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import jwt
import pytest

from todo_service.local.harness import LOOPBACK, LocalServer, free_port
from todo_service.settings import LOCAL_POOL_REGION, cognito_issuer_domain

from .backends import ROOT, selected_names
from .cognito import moto_signing_key

DEFAULT_COGNITO: Final = "moto,cognito-local"
COGNITO_IMPLEMENTATIONS: Final = ("moto", "cognito-local")
COGNITO_LOCAL: Final = ROOT / "node_modules" / "cognito-local"
# The key cognito-local signs every pool's tokens with (kid "CognitoLocal"), shipped in the
# package beside the public half its JWKS publishes.
COGNITO_LOCAL_PRIVATE_KEY: Final = COGNITO_LOCAL / "lib" / "keys" / "cognitoLocal.private.json"


@dataclasses.dataclass(frozen=True, slots=True)
class CognitoIdp:
    """A running Cognito implementation: where it answers and the key its tokens are signed with."""

    name: str
    endpoint_url: str
    kid: str
    signing_key: Any


def selected_cognito() -> list[str]:
    return selected_names("TODO_TEST_COGNITO", DEFAULT_COGNITO, COGNITO_IMPLEMENTATIONS)


def needed_combination(
    cognito: str, backend: str, cognitos: list[str], backends: list[str]
) -> bool:
    """Whether a test runs on this (Cognito implementation, DynamoDB backend) pair."""
    return cognito == cognitos[0] or backend == backends[0]


def cognito_local_config() -> dict[str, Any]:
    """cognito-local's `.cognito/config.json`, so that its pools behave as ours do in Cognito.

    - Its issuer is `<IssuerDomain>/<pool id>`, by default `http://<host>:<port>/<pool>`; set
      to AWS's host for its `local` "region", it is the issuer the service derives from the
      pool id (settings.py), so the service has one issuer rule.
    - Its default `UserPoolDefaults` makes every pool's user names email addresses, whatever
      CreateUserPool asked for; Cognito (and moto) keep what was asked. Empty, it does too.
    """
    return {
        "TokenConfig": {"IssuerDomain": cognito_issuer_domain(LOCAL_POOL_REGION)},
        "UserPoolDefaults": {"UsernameAttributes": []},
    }


@contextmanager
def cognito_local_server() -> Iterator[LocalServer]:
    """cognito-local on a loopback port, its state in a temporary directory removed after."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("the cognito-local implementation needs Node.js (node) on PATH")
    if not COGNITO_LOCAL.is_dir():
        pytest.skip("the cognito-local implementation needs `npm ci` at the repository root")
    with tempfile.TemporaryDirectory(prefix="cognito-local-") as state:
        config = Path(state) / ".cognito" / "config.json"
        config.parent.mkdir()
        config.write_text(json.dumps(cognito_local_config()))
        port = free_port()
        env = {**os.environ, "HOST": LOOPBACK, "PORT": str(port)}
        argv = [node, str(COGNITO_LOCAL / "lib" / "bin" / "start.js")]
        with LocalServer(lambda _: argv, "cognito-local", port, env, Path(state)) as server:
            yield server


def cognito_local_signing_key() -> tuple[str, Any]:
    """(kid, private key) cognito-local signs every pool's tokens with."""
    jwk = json.loads(COGNITO_LOCAL_PRIVATE_KEY.read_text())["jwk"]
    return jwk["kid"], jwt.PyJWK(jwk).key


@contextmanager
def running_cognito(name: str, moto_endpoint: Callable[[], str]) -> Iterator[CognitoIdp]:
    """The named implementation, running: moto's is the session's moto server."""
    if name == "moto":
        yield CognitoIdp(name, moto_endpoint(), *moto_signing_key())
        return
    with cognito_local_server() as server:
        yield CognitoIdp(name, server.endpoint_url, *cognito_local_signing_key())
