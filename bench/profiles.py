"""A readable summary of a py-spy profile (`--format raw`: one collapsed stack per line)."""

from __future__ import annotations

import collections
import re
from pathlib import Path

SDK = "DynamoDB calls: aiobotocore + botocore + their aiohttp client"
ACCESS_LOG = "access log (JSON line per request)"
AUTH = "token verification (TODO_AUTH=cognito: api/auth.py, PyJWT, cryptography)"
OWN = "todo_service's own code (self time: handlers, middlewares, repository, JSON)"
REST = "HTTP server (aiohttp: parsing, routing, writing) and the event loop"


# py-spy --nonblocking reads a running process, so some stacks come out cut short: match
# any frame of the part, not just its entry point.
_SDK_MARKERS = (
    "_make_api_call",
    "aiobotocore/",
    "botocore/",
    "aiohttp/client",
    "aiohttp/connector",
)
_LOG_MARKERS = ("log_access", "logging/", "todo_service/logs.py")
# Only under a token's verification: the library paths anywhere on the stack, and of our
# auth module its verifying functions alone (its middleware frame is on every stack, since it
# runs the handler).
_AUTH_LIBRARIES = ("(jwt/", "(cryptography/", "todo_service/api/jwks.py")
_AUTH_FUNCTIONS = ("verify", "_decode", "_bearer_token")


def _category(frames: list[str]) -> str:
    """Where one sample's time goes, by the frames on its stack."""
    if any(_is_auth(f) for f in frames):
        return AUTH
    if any(marker in f for f in frames for marker in _SDK_MARKERS):
        return SDK
    if any(marker in f for f in frames for marker in _LOG_MARKERS):
        return ACCESS_LOG
    if "todo_service/" in frames[-1]:
        return OWN
    return REST


def _is_auth(frame: str) -> bool:
    if any(library in frame for library in _AUTH_LIBRARIES):
        return True
    function, _, where = frame.partition(" (")
    # py-spy names methods with their class: TokenVerifier.verify.
    return function.rpartition(".")[2] in _AUTH_FUNCTIONS and "todo_service/api/auth.py" in where


def _frame(raw: str) -> str:
    name = re.sub(r":\d+\)$", ")", raw.strip())
    return re.sub(r"\(/\S*?/(site-packages|python3\.\d+)/", "(", name)


def summarize(raw_profile: Path, top: int = 40) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    categories: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw_profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_frame(f) for f in stack.split(";")]
        for frame in set(frames[1:]):  # the first frame names the process
            inclusive[frame] += samples
        categories[_category(frames)] += samples
    if not total:
        return "no samples\n"
    lines = [f"{total} samples", "", "Where the time goes:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in categories.most_common()]
    lines += ["", f"Top {top} functions, inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"
