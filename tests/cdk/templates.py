"""Small readers for synthesized CloudFormation templates."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_cdk.assertions import Annotations, Template

    from todo_cdk.stack import TodoServiceStack


@dataclasses.dataclass(frozen=True)
class Synthesized:
    """The app's one stack, synthesized once per test session."""

    stack: TodoServiceStack
    template: Template
    annotations: Annotations
    outdir: Path
    seconds: float

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.template.find_resources(resource_type)
        return found


def only(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The logical id and body of the one resource in `resources`."""
    assert len(resources) == 1, f"expected exactly one resource, found {sorted(resources)}"
    return next(iter(resources.items()))


def table_keyed_by(synthesized: Synthesized, key: str) -> tuple[str, dict[str, Any]]:
    """The logical id and body of the one table whose partition key is `key`."""
    tables = synthesized.resources("AWS::DynamoDB::Table")
    return only(
        {
            logical_id: table
            for logical_id, table in tables.items()
            if table["Properties"]["KeySchema"][0]["AttributeName"] == key
        }
    )


def container_environment(synthesized: Synthesized) -> dict[str, Any]:
    """The API container's environment, by variable name."""
    _, task = only(synthesized.resources("AWS::ECS::TaskDefinition"))
    (container,) = task["Properties"]["ContainerDefinitions"]
    return {e["Name"]: e["Value"] for e in container["Environment"]}


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn_of(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def as_list(value: Any) -> list[Any]:
    """IAM accepts a single action or resource where it accepts a list."""
    return value if isinstance(value, list) else [value]
