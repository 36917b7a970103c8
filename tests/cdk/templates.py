"""Small readers for synthesized CloudFormation templates."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_cdk.assertions import Annotations, Template

    from todo_cdk.edge import TodoEdgeStack
    from todo_cdk.stack import TodoServiceStack
    from todo_cdk.waf import TodoWafStack


@dataclasses.dataclass(frozen=True)
class Synthesized:
    """The app's stacks, synthesized once per test session: the service's, and its edge's."""

    stack: TodoServiceStack
    template: Template
    annotations: Annotations
    outdir: Path
    seconds: float
    edge_stack: TodoEdgeStack
    edge: Template
    waf_stack: TodoWafStack | None
    waf: Template | None

    def templates(self) -> dict[str, Template]:
        """Every stack's template by stack name."""
        found = {self.stack.stack_name: self.template, self.edge_stack.stack_name: self.edge}
        if self.waf_stack is not None and self.waf is not None:
            found[self.waf_stack.stack_name] = self.waf
        return found

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


def containers(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """The task's container definitions by name: the API's and the collector's."""
    _, task = only(synthesized.resources("AWS::ECS::TaskDefinition"))
    return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


def api_container(synthesized: Synthesized) -> dict[str, Any]:
    found: dict[str, Any] = containers(synthesized)["Api"]
    return found


def container_environment(synthesized: Synthesized, container: str = "Api") -> dict[str, Any]:
    """A container's environment, by variable name."""
    return {e["Name"]: e["Value"] for e in containers(synthesized)[container]["Environment"]}


def token_text(value: Any) -> str:
    """A string or an Fn::Join of strings and references, as text: `Ref X` reads `<X>`."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(token_text(part) for part in parts)
    # Any other function (Fn::Select of a split ARN, say) by its name: the text stays parseable.
    (function,) = value
    return f"<{function}>"


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn_of(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def as_list(value: Any) -> list[Any]:
    """IAM accepts a single action or resource where it accepts a list."""
    return value if isinstance(value, list) else [value]


def collector_config(synthesized: Synthesized) -> dict[str, Any]:
    """The collector's configuration as the task passes it; references read `<LogicalId>`."""
    text = token_text(container_environment(synthesized, "Collector")["TODO_COLLECTOR_CONFIG"])
    config: dict[str, Any] = json.loads(text)
    return config


def dashboard_metrics(template: Template) -> list[list[Any]]:
    """Every metric line of the template's one dashboard."""
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.loads(token_text(dashboard["Properties"]["DashboardBody"]))
    return [
        metric
        for widget in body["widgets"]
        for metric in widget.get("properties", {}).get("metrics", [])
    ]
