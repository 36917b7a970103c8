"""DynamoDB calls made by a real client up to the wire, then stopped: what would be sent.

For tests that compare two clients' requests (the signer's, the endpoint cache's) without a
server that checks signatures: botocore's clock is stopped so that both sign at one moment.
"""

from __future__ import annotations

import datetime
from typing import Any

import botocore.auth
import pytest

MOMENT = datetime.datetime(2026, 12, 2, 23, 59, 59)


class Stop(Exception):
    """Raised in place of sending."""


def stop_before_sending(client: Any, sent: list[tuple[str, dict[str, Any]]]) -> None:
    """Record each request's URL and headers as the client would send them, then stop it."""

    def stop(request: Any, **_: Any) -> None:
        sent.append((request.url, dict(request.headers.items())))
        raise Stop

    client.meta.events.register("before-send.dynamodb", stop)


def freeze_botocore_clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime.datetime]:
    """botocore's clock, stopped at the moment in the list (a test may change it)."""
    moments = [MOMENT]
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: moments[0])
    return moments
