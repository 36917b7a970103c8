"""The numbers the API enforces, in one place that imports nothing.

The todo's rules (`todo.py`), the OpenAPI document, the web page's generated `config.js` and
the CDK app all read these; the last imports this module without the service's dependencies.
"""

from __future__ import annotations

from typing import Final

MAX_TEXT_CHARS: Final = 1000
# A page of the list: `limit` accepts 1 to MAX_PAGE_LIMIT; without it, DEFAULT_PAGE_LIMIT.
# 1000 todos of 1000 characters is about 1 MB of JSON; the store follows DynamoDB's pages.
MAX_PAGE_LIMIT: Final = 1000
DEFAULT_PAGE_LIMIT: Final = 100
# The largest integer a browser's JSON parser (an IEEE double) keeps exact.
MAX_ID: Final = 2**53 - 1
