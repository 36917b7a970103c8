"""botocore's SigV4 signer, minus the work it repeats on every call.

botocore signs each call with a new `SigV4Auth`, which (botocore 1.40) collects the headers to
sign into an `email.message`-based `HTTPHeaders` twice (once for the canonical request, once
for the Authorization header) and derives the signing key from the secret with four HMACs,
although the key changes only once a day. With the Host header parsed from the same URL on
every call, that was most of a GetItem's signing time, and signing a large share of the call
(docs/performance.md has the figures). To hash the payload it reads `request.body`,
which prepares the whole request (URL, a case-insensitive copy of every header, body) only
to hand back the bytes the serializer already put in `request.data`; the endpoint then
prepares the request again to send it.

`CachedKeySigV4Auth` keeps botocore's algorithm and changes only that: the headers are
collected once per signature into a plain dict, the key is derived once per (secret, day,
region, service), the Host header's value once per endpoint URL, and a payload of bytes is
hashed straight from `request.data`. The canonical request, the string to sign and the
Authorization header are botocore's own code.
`tests/test_signer.py` checks that every signature equals botocore's, byte for byte, on the
service's calls and on odd requests.

It is used by the service's client alone: the client's config names its signature version
(`signature_version`, botocore's documented option), which `register` adds to botocore's
table of signers under a name of its own, so no other client changes.
"""

from __future__ import annotations

import functools
import hmac
from hashlib import sha256
from typing import Any, Final

import botocore.auth
from botocore.auth import SIGNED_HEADERS_BLACKLIST, SigV4Auth

# The name botocore's signer looks this class up by (botocore.auth.AUTH_TYPE_MAPS).
SIGNATURE_VERSION: Final = "todo-service-v4"
# Keys for a few (day, region) pairs at once: enough for the day's turn at midnight.
SIGNING_KEYS_CACHED: Final = 16
# A client talks to one endpoint; a few spare entries cover an endpoint that changes.
HOSTS_CACHED: Final = 16

# The Host header botocore signs, from the request's URL (two URL parses and an IPv6 check
# per call, for a URL that is the same on every call).
# botocore's own (private) function: tests/test_signer.py checks it is still there.
host_from_url = functools.lru_cache(maxsize=HOSTS_CACHED)(
    botocore.auth._host_from_url  # type: ignore[attr-defined]
)


@functools.lru_cache(maxsize=SIGNING_KEYS_CACHED)
def signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    """SigV4's derived key: HMAC chain over the day, the region, the service, aws4_request."""
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), sha256).digest()
    return key


class SignedHeaders(dict[str, list[str]]):
    """The headers to sign, lowercased, in the two ways botocore's signer reads them."""

    def get_all(self, name: str) -> list[str]:
        return self.get(name, [])


class CachedKeySigV4Auth(SigV4Auth):
    """SigV4Auth with its headers collected once per signature, its key and host cached."""

    # Set only while add_auth signs, so that a caller asking outside a signature always gets
    # the request's headers as they are now.
    _headers: SignedHeaders | None = None
    _signing = False

    def headers_to_sign(self, request: Any) -> Any:
        # botocore asks twice per signature, with no change to the headers in between: for the
        # canonical request and for the Authorization header's SignedHeaders.
        if self._headers is not None:
            return self._headers
        headers = SignedHeaders()
        for name, value in request.headers.items():
            lowered = name.lower()
            if lowered not in SIGNED_HEADERS_BLACKLIST:
                headers.setdefault(lowered, []).append(value)
        if "host" not in headers:
            headers["host"] = [host_from_url(request.url)]
        if self._signing:
            self._headers = headers
        return headers

    def add_auth(self, request: Any) -> None:
        self._signing = True
        try:
            super().add_auth(request)
        finally:
            # A retry signs again with a fresh look at the headers.
            self._signing = False
            self._headers = None

    def payload(self, request: Any) -> str:
        data = request.data
        # Bytes are what botocore's JSON serializer makes, and what `request.body` would give
        # back after preparing the request. Empty, str, form and file bodies, unsigned and
        # streaming payloads: botocore's own reading.
        if (
            type(data) is bytes
            and data
            and not self._is_streaming_checksum_payload(request)  # type: ignore[attr-defined]
            and self._should_sha256_sign_payload(request)  # type: ignore[attr-defined]
        ):
            return sha256(data).hexdigest()
        return super().payload(request)

    def signature(self, string_to_sign: str, request: Any) -> str:
        key = signing_key(
            self.credentials.secret_key,
            request.context["timestamp"][0:8],
            self._region_name,  # type: ignore[attr-defined]
            self._service_name,  # type: ignore[attr-defined]
        )
        return hmac.new(key, string_to_sign.encode("utf-8"), sha256).hexdigest()


def register() -> None:
    """Make the signature version known to botocore (idempotent; botocore's CRT does the same)."""
    botocore.auth.AUTH_TYPE_MAPS[SIGNATURE_VERSION] = CachedKeySigV4Auth
