"""How DynamoDB's JSON answers become Python: botocore's own parser, with items taken as sent.

botocore turns every answer into Python by walking the output shape member by member. For
DynamoDB that walk does almost nothing: an `AttributeValue` comes back as the same dict that
was on the wire, unless it holds a binary (`B`, `BS`: base64 text that becomes bytes), a
nested document (`M`, `L`), a member this botocore does not know, or a null. Yet the walk asks
each of the ten members of every attribute of every item whether it is there: parsing a page
of 50 todos was about 60% of a Scan's CPU in a profile (bench/README.md, issue 13).

So this parser keeps botocore's `AioJSONParser` for everything (errors, metadata, timestamps,
event streams, every other shape) and takes one shortcut: an attribute value whose members
are all plain scalars or lists of strings is used as decoded. Anything else goes through
botocore's walk exactly as before. `tests/test_response_parser.py` checks that both parsers
give equal results for every kind of answer, and fails if an upgrade changes what this
relies on.

The body is decoded with msgspec (already the service's JSON library) instead of `json`,
about 1.7 times as fast on a page of 50 items (timeit); a body msgspec refuses falls back to
botocore's own handling, so an odd answer reads exactly as botocore would read it.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from aiobotocore.parsers import AioJSONParser, AioResponseParserFactory
from botocore.model import MapShape, Shape

# The shape of one attribute value in DynamoDB's service model.
ATTRIBUTE_VALUE: Final = "AttributeValue"
# Members botocore returns unchanged: strings, numbers (strings on the wire), NULL and BOOL,
# and the sets of strings and numbers (lists, copied item by item). B and BS are base64
# (botocore decodes them to bytes); M and L hold further attribute values; those, and any
# member not named here, take botocore's walk.
SCALAR_MEMBERS: Final = frozenset({"S", "N", "NULL", "BOOL"})
SET_MEMBERS: Final = frozenset({"SS", "NS"})
PLAIN_MEMBERS: Final = SCALAR_MEMBERS | SET_MEMBERS
# The protocol botocore's DynamoDB model declares (its JSON 1.0 RPC).
DYNAMODB_PROTOCOL: Final = "json"


def is_plain(value: object) -> bool:
    """Whether botocore's walk would return this attribute value equal to itself."""
    # botocore leaves out members that are null, so a null member is not plain.
    if type(value) is not dict or None in value.values():
        return False
    members = value.keys()
    if members <= SCALAR_MEMBERS:
        return True
    # A set that is not a list would be walked differently (a string, char by char).
    return members <= PLAIN_MEMBERS and all(
        type(value[name]) is list for name in members & SET_MEMBERS
    )


class ItemParser(AioJSONParser):
    """botocore's JSON parser, with plain attribute values taken as decoded.

    The methods overridden here are private to botocore (its stubs leave them out, hence the
    type ignores); tests/test_response_parser.py fails if their names or meaning change.
    """

    def _handle_map(self, shape: MapShape, value: Any) -> Any:
        # An item (AttributeMap, Key, ...) is a map of attribute values: one pass over it
        # instead of a structure walk per attribute.
        if shape.value.name == ATTRIBUTE_VALUE and type(value) is dict:
            value_shape = shape.value
            return {
                name: member if is_plain(member) else self._parse_shape(value_shape, member)  # type: ignore[attr-defined]
                for name, member in value.items()
            }
        return super()._handle_map(shape, value)  # type: ignore[misc]

    def _handle_structure(self, shape: Shape, value: Any) -> Any:
        # An attribute value outside an item: ExpressionAttributeValues echoed back,
        # a cancellation reason's Item, an L's members.
        if shape.name == ATTRIBUTE_VALUE and is_plain(value):
            return value
        return super()._handle_structure(shape, value)  # type: ignore[misc]

    def _parse_body_as_json(self, body_contents: bytes) -> Any:
        if not body_contents:
            return {}
        try:
            return msgspec.json.decode(body_contents)
        except msgspec.DecodeError:
            # Not JSON (a proxy's HTML page, a cut-off body): botocore's own reading of it.
            return super()._parse_body_as_json(body_contents)  # type: ignore[misc]


class ItemParserFactory(AioResponseParserFactory):
    """Makes an `ItemParser` for DynamoDB's protocol, and botocore's parser for any other."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == DYNAMODB_PROTOCOL:
            # _defaults: what set_parser_defaults stored (timestamp and blob parsers), the
            # same arguments botocore's factory passes its parsers.
            return ItemParser(**self._defaults)  # type: ignore[attr-defined]
        return super().create_parser(protocol_name)
