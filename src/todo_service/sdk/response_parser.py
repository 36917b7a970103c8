"""How DynamoDB's JSON answers become Python: botocore's own parser, with items taken as sent.

botocore turns every answer into Python by walking the output shape member by member. For
DynamoDB that walk does almost nothing: an `AttributeValue` comes back as the same dict that
was on the wire, unless it holds a binary (`B`, `BS`: base64 text that becomes bytes), a
nested document (`M`, `L`), a member this botocore does not know, or a null. Yet the walk asks
each of the ten members of every attribute of every item whether it is there: most of a Scan's
CPU went into it (docs/performance.md has the figures).

So this parser keeps botocore's `AioJSONParser` for everything (errors, metadata, timestamps,
event streams, every other shape) and takes one shortcut: an attribute value whose members
are all plain scalars or lists of strings is used as decoded. Anything else goes through
botocore's walk exactly as before. `tests/test_response_parser.py` checks that both parsers
give equal results for every kind of answer, and fails if an upgrade changes what this
relies on.

The body is decoded with msgspec (already the service's JSON library) instead of `json`,
which is faster on a page of items; a body msgspec refuses falls back to
botocore's own handling, so an odd answer reads exactly as botocore would read it.

The answers the service reads most (an item, a page of items, a key) go further: msgspec
decodes them against the type of a *plain answer* (`PLAIN_ANSWER`), which checks in C, while it
decodes, that every attribute value holds only `S`, `N`, `BOOL` or `NULL` with a string or
boolean in it. When it does, and every member of the output shape that the answer holds is an
item, a list of items or a scalar, botocore's walk would hand back every value as decoded, so
the decoded values are the result and no walk runs. Any other answer, or a member of any other
shape (ConsumedCapacity, say), takes the walk above over what msgspec decoded.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import msgspec
from aiobotocore.parsers import AioJSONParser, AioResponseParserFactory
from botocore.model import ListShape, MapShape, Shape, StructureShape

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

# A plain answer: each member an item, a list of items or a number, and each attribute value
# of each item one of SCALAR_MEMBERS holding a string or a boolean. botocore returns such a
# value unchanged whatever the JSON type of a scalar member, so this is stricter than
# `is_plain`; sets are left out because botocore walks a set that is not a list differently.
PlainValue = dict[Literal["S", "N", "BOOL", "NULL"], str | bool]
PlainItem = dict[str, PlainValue]
PLAIN_ANSWER: Final = msgspec.json.Decoder(dict[str, list[PlainItem] | int | PlainItem])
# Output members botocore's JSON parser returns as they are (its default handler): no
# timestamps, no blobs.
AS_DECODED_TYPES: Final = frozenset({"string", "integer", "long", "boolean"})


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


def is_item_map(shape: Shape) -> bool:
    return isinstance(shape, MapShape) and shape.value.name == ATTRIBUTE_VALUE


def taken_as_decoded(shape: Shape, value: object) -> bool:
    """Whether botocore's walk returns this member of a plain answer as it was decoded."""
    if shape.type_name in AS_DECODED_TYPES:
        return True
    if is_item_map(shape):
        return type(value) is dict
    if isinstance(shape, ListShape) and is_item_map(shape.member):
        return type(value) is list
    return False


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

    def _handle_json_body(self, raw_body: bytes, shape: Shape) -> Any:
        if not raw_body or not isinstance(shape, StructureShape) or shape.is_tagged_union:
            return super()._handle_json_body(raw_body, shape)  # type: ignore[misc]
        try:
            answer = PLAIN_ANSWER.decode(raw_body)
        except msgspec.DecodeError:
            # Not plain (or not JSON): botocore's reading, with the shortcuts above.
            return super()._handle_json_body(raw_body, shape)  # type: ignore[misc]
        # botocore's structure walk, for the members that need none: only the shape's members,
        # by their wire names, nulls left out.
        parsed = {}
        for name, member in shape.members.items():
            value = answer.get(member.serialization.get("name", name))
            if value is None:
                continue
            if not taken_as_decoded(member, value):
                return self._parse_shape(shape, answer)  # type: ignore[attr-defined]
            parsed[name] = value
        return parsed

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
