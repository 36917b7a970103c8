"""DynamoDB expressions as immutable values: the text and the placeholders it names.

A condition, an update or a filter names attributes through `#name` placeholders and values
through `:value` placeholders, which DynamoDB takes in two maps beside the text. Here a piece
of an expression carries its own maps, and pieces combine into new values (`&`, `set_clause`),
so no helper ever adds to a caller's dicts. Two pieces that use one placeholder for different
things cannot be combined: that would silently change what one of them says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})


@dataclasses.dataclass(frozen=True, slots=True)
class Expression:
    text: str
    names: Mapping[str, str] = dataclasses.field(default_factory=dict)
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        # Read-only copies: an expression never changes once made, whatever its maker does.
        object.__setattr__(self, "names", MappingProxyType(dict(self.names)))
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def __and__(self, other: Expression) -> Expression:
        return joined(" AND ", (self, other))


def _merged(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(first)
    for placeholder, value in second.items():
        if merged.setdefault(placeholder, value) != value:
            raise ValueError(f"placeholder {placeholder} names two things: {merged[placeholder]!r}")
    return merged


def joined(separator: str, parts: Iterable[Expression]) -> Expression:
    """The parts' texts joined by `separator`, with all of their placeholders."""
    texts: list[str] = []
    names: Mapping[str, str] = _EMPTY
    values: Mapping[str, Any] = _EMPTY
    for part in parts:
        texts.append(part.text)
        names = _merged(names, part.names)
        values = _merged(values, part.values)
    return Expression(separator.join(texts), names, values)


def set_clause(*assignments: Expression) -> Expression:
    """An UpdateExpression that makes each assignment (`a = :a`)."""
    clause = joined(", ", assignments)
    return dataclasses.replace(clause, text=f"SET {clause.text}")


def placeholders(*expressions: Expression) -> dict[str, Any]:
    """The ExpressionAttributeNames and ExpressionAttributeValues parameters for expressions
    used together in one call (DynamoDB refuses an empty map, so an empty one is left out)."""
    together = joined("", expressions)
    params: dict[str, Any] = {}
    if together.names:
        params["ExpressionAttributeNames"] = dict(together.names)
    if together.values:
        params["ExpressionAttributeValues"] = dict(together.values)
    return params
