"""Opaque, signed list cursors.

A cursor names where the next page of a list starts: the id of the last todo sent. It is
signed with HMAC-SHA256 over the table name and the list's owner too (the user's `sub` with
TODO_AUTH=cognito, "" for the shared list), so a cursor that was edited, truncated, made for
another table or issued to another user is refused with 400 instead of silently starting
somewhere else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct

from todo_service.domain.errors import InvalidCursor
from todo_service.domain.todo import MAX_ID

_MAC_BYTES = 16
_ID = struct.Struct(">Q")
MALFORMED = (
    'cursor is malformed: follow the Link: <...>; rel="next" header of the previous page, unchanged'
)


class CursorCodec:
    def __init__(self, table_name: str, secret: str | None) -> None:
        key = secret.encode() if secret is not None else secrets.token_bytes(32)
        self._key = key + b"\0" + table_name.encode()

    def _mac(self, payload: bytes, owner: str) -> bytes:
        signed = payload + owner.encode()
        return hmac.new(self._key, signed, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, last_id: int, owner: str = "") -> str:
        payload = _ID.pack(last_id)
        mac = self._mac(payload, owner)
        return base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")

    def decode(self, cursor: str, owner: str = "") -> int:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor(MALFORMED) from None
        if len(raw) != _ID.size + _MAC_BYTES:
            raise InvalidCursor(MALFORMED)
        payload, mac = raw[: _ID.size], raw[_ID.size :]
        if not hmac.compare_digest(mac, self._mac(payload, owner)):
            raise InvalidCursor(
                "cursor was not issued by this service for this list (or for this user), "
                "or has been altered"
            )
        (last_id,) = _ID.unpack(payload)
        if not 0 < last_id <= MAX_ID:
            raise InvalidCursor(MALFORMED)
        return int(last_id)
