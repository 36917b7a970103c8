"""Expressions are immutable values: combining them makes new ones and changes none."""

from __future__ import annotations

import pytest

from todo_service.store import items
from todo_service.store.expressions import Expression, joined, placeholders, set_clause


def test_combining_expressions_changes_neither_and_keeps_every_placeholder() -> None:
    names, values = {"#a": "a"}, {":a": {"N": "1"}}
    first = Expression("#a = :a", names, values)
    second = items.owner_is("user-1")
    both = first & second
    assert both.text == "#a = :a AND #owner = :owner"
    assert dict(both.names) == {"#a": "a", "#owner": "owner"}
    assert dict(both.values) == {":a": {"N": "1"}, ":owner": {"S": "user-1"}}
    # The parts, and what they were made from, are as they were.
    assert dict(first.names) == {"#a": "a"}
    assert dict(second.values) == {":owner": {"S": "user-1"}}
    assert names == {"#a": "a"}
    assert values == {":a": {"N": "1"}}


def test_an_expression_cannot_be_changed_through_what_it_was_made_from_or_gives() -> None:
    values = {":a": {"N": "1"}}
    made = Expression(":a", values=values)
    values[":b"] = {"N": "2"}
    assert dict(made.values) == {":a": {"N": "1"}}
    with pytest.raises(TypeError):
        made.values[":c"] = {"N": "3"}  # type: ignore[index]
    params = placeholders(made)
    params["ExpressionAttributeValues"][":d"] = {"N": "4"}
    assert dict(made.values) == {":a": {"N": "1"}}


def test_one_placeholder_for_two_things_is_refused() -> None:
    with pytest.raises(ValueError, match=":a"):
        _ = Expression(":a", values={":a": {"N": "1"}}) & Expression(
            ":a", values={":a": {"S": "x"}}
        )


def test_the_same_placeholder_for_the_same_thing_is_fine() -> None:
    joined_twice = items.owner_is("u") & items.owner_is("u")
    assert dict(joined_twice.values) == {":owner": {"S": "u"}}


def test_update_and_condition_come_together_in_one_call() -> None:
    update = set_clause(items.text_set_to("milk"), items.touched("2026-12-04T00:00:00.000Z"))
    condition = items.owned(items.version_condition(3), "u")
    assert update.text == (
        "SET #text = :text, updatedAt = :now, version = if_not_exists(version, :zero) + :one"
    )
    assert condition.text == "attribute_exists(id) AND version = :expected AND #owner = :owner"
    params = placeholders(update, condition)
    assert params["ExpressionAttributeNames"] == {"#text": "text", "#owner": "owner"}
    assert set(params["ExpressionAttributeValues"]) == {
        ":text",
        ":now",
        ":zero",
        ":one",
        ":expected",
        ":owner",
    }


def test_no_placeholders_means_no_parameters() -> None:
    assert placeholders(items.EXISTS) == {}
    assert joined(", ", ()).text == ""
