"""Cognito's RevokeToken on the embedded server, which moto (5.x) does not implement.

The page signs out by revoking its refresh token (Cognito's RevokeToken), so the token is
dead even if it was copied out of the tab. moto answers that action with a 500 (an HTML page),
so signing out could not be tried locally; this WSGI layer answers it from moto's own state,
exactly as moto's GlobalSignOut does: the pool's entry for the refresh token is set to None,
after which REFRESH_TOKEN_AUTH with it is NotAuthorizedException ("Refresh Token has been
revoked"). Every other request goes to moto untouched.

The answers follow AWS's RevokeToken: 200 with `{}` once revoked; a token issued to another app
client is UnauthorizedException and stays valid; a missing ClientId or Token is
InvalidParameterException. A token the pool does not know is 200, as RFC 7009 (§2.2) has it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

REVOKE_TOKEN_TARGET: Final = "AWSCognitoIdentityProviderService.RevokeToken"
JSON_1_1: Final = "application/x-amz-json-1.1"

# A WSGI application, as moto_server.py composes them.
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _pools() -> Iterator[Any]:
    """Every user pool moto holds, in every account and region (RevokeToken is unsigned)."""
    from moto.cognitoidp.models import cognitoidp_backends

    for account in cognitoidp_backends.values():
        for region, backend in account.items():
            if region != "global":
                yield from backend.user_pools.values()


def _revoke(body: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(status, answer) for one RevokeToken call, revoking the token in moto's state."""
    client_id, token = body.get("ClientId"), body.get("Token")
    if not isinstance(client_id, str) or not client_id or not isinstance(token, str) or not token:
        return "400 Bad Request", _error(
            "InvalidParameterException", "ClientId and Token are required"
        )
    for pool in _pools():
        issued = pool.refresh_tokens.get(token)
        if issued is None:
            continue  # not this pool's, or already revoked
        if issued[0] != client_id:
            return "400 Bad Request", _error(
                "UnauthorizedException", "The token was not issued to this app client"
            )
        pool.refresh_tokens[token] = None
    return "200 OK", {}


def _error(error_type: str, message: str) -> dict[str, str]:
    return {"__type": error_type, "message": message}


def with_revoke_token(app: WsgiApp) -> WsgiApp:
    """`app` (moto's WSGI app) with RevokeToken answered here; run it inside the server's lock."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET") != REVOKE_TOKEN_TARGET:
            return app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if isinstance(body, dict):
            status, answer = _revoke(body)
        else:
            status, answer = (
                "400 Bad Request",
                _error("SerializationException", "not a JSON object"),
            )
        payload = json.dumps(answer).encode()
        headers = [("Content-Type", JSON_1_1), ("Content-Length", str(len(payload)))]
        if "__type" in answer:
            headers.append(("X-Amzn-ErrorType", answer["__type"]))
        start_response(status, headers)
        return [payload]

    return wsgi
