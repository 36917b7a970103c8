"""What the web page may do, and the headers that say so: one definition for every server.

The API (`api/middlewares.py`), the page's own server (`website.py`) and the CDK app's
CloudFront policy (`cdk/todo_cdk/website.py`) all read these, so the page behaves the same
locally, in compose and behind CloudFront. Standard library only: the CDK app imports this
module without the service's dependencies installed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from todo_service.domain.limits import MAX_TEXT_CHARS

# Headers every answer of ours carries, the API's and the page's alike.
COMMON_SECURITY_HEADERS: Final[Mapping[str, str]] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# An API that only ever answers JSON needs no scripts, frames or sniffing, and nothing of it
# may be cached: every answer is the table as it is now.
API_SECURITY_HEADERS: Final[Mapping[str, str]] = {
    **COMMON_SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}
# The page's headers besides its Content-Security-Policy, which names the API's origin.
PAGE_SECURITY_HEADERS: Final[Mapping[str, str]] = {
    **COMMON_SECURITY_HEADERS,
    "Cross-Origin-Opener-Policy": "same-origin",
}

# The files carry no content hash in their names (there is no build step), so browsers must
# revalidate them on every load (cheap: an ETag answers 304) or a deployment would show a
# stale page. config.js is tiny and generated: never stored.
STATIC_CACHE_CONTROL: Final = "no-cache"
GENERATED_CACHE_CONTROL: Final = "no-store"
CONFIG_FILE: Final = "config.js"
INDEX_FILE: Final = "index.html"


@dataclasses.dataclass(frozen=True, slots=True)
class SignIn:
    """What the page needs to sign users in to a Cognito user pool (TODO_AUTH=cognito)."""

    region: str
    user_pool_id: str
    # A public app client (no secret): the page runs in the user's browser.
    client_id: str
    # Cognito's JSON API, which the page calls with fetch: AWS's regional endpoint, or the
    # embedded server locally.
    endpoint: str
    # False when only an administrator creates users (the stack's `todo:signup=closed`): the
    # page then offers no sign-up.
    self_sign_up: bool = True

    def as_config(self) -> dict[str, str | bool]:
        return {
            "region": self.region,
            "userPoolId": self.user_pool_id,
            "clientId": self.client_id,
            "endpoint": self.endpoint,
            "selfSignUp": self.self_sign_up,
        }


def cognito_endpoint(region: str) -> str:
    """Cognito user pools' regional JSON API endpoint in AWS."""
    return f"https://cognito-idp.{region}.amazonaws.com/"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(api_base_url: str, sign_in: SignIn | None = None) -> str:
    """Only our own files run; the page may talk to itself, the API and Cognito, no more.

    No 'unsafe-inline' anywhere: even if a todo's text were ever inserted as HTML, an
    injected inline handler or script would not run. ES modules load from 'self' too.
    """
    connect = ["'self'"]
    if api_base_url:
        connect.append(_origin(api_base_url))
    if sign_in is not None:
        connect.append(_origin(sign_in.endpoint))
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src {' '.join(connect)}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def config_js(api_base_url: str, sign_in: SignIn | None = None) -> bytes:
    """The page's generated configuration, `window.TODO_CONFIG = {...};`.

    It carries the API's base URL ("" = the page's own origin), the rules the page checks
    before it sends anything (the text limit), so the page never keeps a copy of them, and
    the user pool to sign in to (`auth`: null when the API needs no sign-in).
    """
    config = {
        "apiBaseUrl": api_base_url,
        "maxTextChars": MAX_TEXT_CHARS,
        "auth": None if sign_in is None else sign_in.as_config(),
    }
    # json.dumps makes any string a safe JavaScript literal; the URL is validated besides.
    return f"window.TODO_CONFIG = {json.dumps(config)};\n".encode()
