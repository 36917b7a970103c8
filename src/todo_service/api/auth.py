"""Who is calling: Cognito access tokens verified in-process, and the principal handlers see.

With `TODO_AUTH=cognito` every route outside `PUBLIC_PATHS` needs
`Authorization: Bearer <access token>`. A refusal is a 401 with RFC 6750's `WWW-Authenticate`
and our JSON error body, before any handler runs, so nothing is read or written. The token's
checks, in order: RS256 only, a key id the pool publishes, the signature, `exp`/`nbf`/`iat`
with `LEEWAY_S`, the pool's issuer, `token_use` = access, and our app client's `client_id`.
"""

from __future__ import annotations

import collections
import dataclasses
import time
from typing import Any, Final

import jwt
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from todo_service.api.jwks import SIGNING_ALGORITHM, JwksCache
from todo_service.api.metrics import Metrics
from todo_service.api.responses import error_body, json_response

# Routes anyone may call in cognito mode: the page, probes, the contract and the metrics.
PUBLIC_PATHS: Final = frozenset({"/", "/healthz", "/readyz", "/openapi.json", "/metrics"})
# Clock skew tolerated between Cognito and us on exp, nbf and iat.
LEEWAY_S: Final = 30
# Cognito's access tokens are one to two kilobytes; aiohttp itself refuses any header field
# over 8190 bytes (400) before we see it. Past this we refuse without decoding anything.
MAX_TOKEN_BYTES: Final = 4096
# Tokens verified lately, kept until they expire (see TokenVerifier): a page's access token is
# sent on every request of its session, about 1.5 KB each, so a few MB at most.
VERIFIED_TOKENS: Final = 4096
REALM_CHALLENGE: Final = "Bearer"
INVALID_TOKEN_CHALLENGE: Final = 'Bearer error="invalid_token"'
# The error codes of a 401's JSON body: no token at all, or a token we refused.
NO_TOKEN_CODE: Final = "unauthorized"
INVALID_TOKEN_CODE: Final = "invalid_token"

# The fixed set of reasons /metrics counts refusals by (todo_auth_failures_total{reason}).
MISSING: Final = "missing"  # no Authorization header
WRONG_SCHEME: Final = "wrong_scheme"  # Authorization, but not Bearer (such as Basic)
MALFORMED: Final = "malformed"  # not a JWT, bad base64, too large, claims missing
BAD_ALGORITHM: Final = "bad_algorithm"  # alg none, HS256 (key confusion), anything not RS256
UNKNOWN_KEY: Final = "unknown_key"  # a kid the pool does not publish
BAD_SIGNATURE: Final = "bad_signature"  # tampered header or payload, another key
EXPIRED: Final = "expired"
NOT_YET_VALID: Final = "not_yet_valid"  # nbf or iat in the future
WRONG_ISSUER: Final = "wrong_issuer"  # another pool, another region
WRONG_TOKEN_USE: Final = "wrong_token_use"  # an ID token (or anything but access)
WRONG_CLIENT: Final = "wrong_client"  # another app client's token
REASONS: Final = (
    MISSING,
    WRONG_SCHEME,
    MALFORMED,
    BAD_ALGORITHM,
    UNKNOWN_KEY,
    BAD_SIGNATURE,
    EXPIRED,
    NOT_YET_VALID,
    WRONG_ISSUER,
    WRONG_TOKEN_USE,
    WRONG_CLIENT,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller. `sub` is the stable user id that owns the todos they create."""

    sub: str


PRINCIPAL: Final = web.RequestKey("principal", Principal)


def request_owner(request: web.Request) -> str | None:
    """Whose todos the request may see and change: the caller's `sub`, or None (everyone's,
    with TODO_AUTH=none)."""
    principal = request.get(PRINCIPAL)
    return None if principal is None else principal.sub


class AuthFailure(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class TokenVerifier:
    """Verifies access tokens, and remembers the ones it verified until they expire.

    A JWT cannot change without breaking its signature, so a token that passed every check
    passes them again until `exp` (plus the leeway): checking its RSA signature on each of the
    session's requests would only spend the CPU again (most of what auth costs per request).
    Only tokens that passed are remembered, keyed by the whole token, so a forged one is always
    checked in full. A token stays valid until it expires either way (the service cannot see a
    sign-out; see docs/auth.md).
    """

    def __init__(
        self, keys: JwksCache, issuer: str, client_id: str, capacity: int = VERIFIED_TOKENS
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._client_id = client_id
        self._capacity = capacity
        # token -> (its principal, the time after which it is expired, leeway included)
        self._verified: collections.OrderedDict[str, tuple[Principal, float]] = (
            collections.OrderedDict()
        )

    async def verify(self, token: str) -> Principal:
        """The token's principal; AuthFailure when it is not our pool's valid access token."""
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires_at = remembered
            if time.time() < expires_at:
                self._verified.move_to_end(token)
                return principal
            # Expired: forgotten, and checked in full below, which refuses it as expired.
            del self._verified[token]
        principal, expires_at = await self._verify(token)
        self._verified[token] = (principal, expires_at)
        if len(self._verified) > self._capacity:
            self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        """Every check, in order; the principal and when the token stops being valid."""
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthFailure(MALFORMED, f"the token is longer than {MAX_TOKEN_BYTES} bytes")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise AuthFailure(MALFORMED, "the token is not a JWT") from None
        # Checked before any key is looked up: "none" and HS256 signed with the public key
        # (key confusion) never reach a verifier.
        if header.get("alg") != SIGNING_ALGORITHM:
            raise AuthFailure(BAD_ALGORITHM, f"only {SIGNING_ALGORITHM} tokens are accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthFailure(MALFORMED, "the token names no key id (kid)")
        key = await self._keys.key(kid)
        if key is None:
            raise AuthFailure(UNKNOWN_KEY, "the token's key id is not one of the user pool's")
        claims = _decode(token, key, self._issuer)
        if claims.get("token_use") != "access":
            raise AuthFailure(WRONG_TOKEN_USE, "an access token is required (token_use=access)")
        if claims.get("client_id") != self._client_id:
            raise AuthFailure(WRONG_CLIENT, "the token was issued to another app client")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or not isinstance(claims.get("scope", ""), str):
            raise AuthFailure(MALFORMED, "the token's sub or scope claim is malformed")
        principal = Principal(sub=sub)
        # PyJWT refuses a token once `exp <= now - leeway`: valid strictly before this.
        return principal, float(claims["exp"]) + LEEWAY_S


def _decode(token: str, key: jwt.PyJWK, issuer: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[SIGNING_ALGORITHM],
            issuer=issuer,
            leeway=LEEWAY_S,
            # Access tokens carry client_id, not aud; ID tokens (which have aud) are refused
            # by token_use after this.
            options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
        )
    except jwt.InvalidSignatureError:
        raise AuthFailure(BAD_SIGNATURE, "the token's signature does not verify") from None
    except jwt.ExpiredSignatureError:
        raise AuthFailure(EXPIRED, "the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise AuthFailure(NOT_YET_VALID, "the token is not valid yet") from None
    except jwt.InvalidIssuerError:
        raise AuthFailure(WRONG_ISSUER, "the token was issued by another user pool") from None
    except jwt.InvalidTokenError as error:
        raise AuthFailure(MALFORMED, f"the token is malformed: {error}") from None
    return claims


# Set only with TODO_AUTH=cognito, for the app's life (see app.auth_ctx).
VERIFIER: Final = web.AppKey("verifier", TokenVerifier)


def _refusal(failure: AuthFailure) -> web.Response:
    # RFC 6750 §3.1: a request with no bearer credentials at all (none, or another scheme)
    # gets the bare challenge; an error code is only for a token that was presented.
    no_token = failure.reason in (MISSING, WRONG_SCHEME)
    return json_response(
        error_body(NO_TOKEN_CODE if no_token else INVALID_TOKEN_CODE, failure.message),
        401,
        {"WWW-Authenticate": REALM_CHALLENGE if no_token else INVALID_TOKEN_CHALLENGE},
    )


def _bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization")
    if header is None:
        raise AuthFailure(MISSING, "this route needs Authorization: Bearer <access token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        raise AuthFailure(WRONG_SCHEME, "only the Bearer scheme is accepted")
    token = token.strip()
    if not token:
        raise AuthFailure(MALFORMED, "the Bearer token is empty")
    return token


def auth_middleware(metrics: Metrics) -> Middleware:
    """Inside the error middleware: a JWKS outage raises BackendUnavailable, a 503 there.

    The verifier is looked up per request: it is made at start-up, with the HTTP session.
    """
    metrics.declare_auth_reasons(REASONS)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        # Unmatched paths (404, no handler) and the public routes need no token; any other
        # route does, so a route added later is protected unless it is listed above.
        if resource is None or resource.canonical in PUBLIC_PATHS:
            return await handler(request)
        try:
            token = _bearer_token(request)
            request[PRINCIPAL] = await request.app[VERIFIER].verify(token)
        except AuthFailure as failure:
            metrics.auth_failures.labels(failure.reason).inc()
            return _refusal(failure)
        return await handler(request)

    return middleware
