"""Least privilege: the task role and the VPC endpoint allow exactly what the service calls.

The operations are derived from the source of the store's serving modules, the only code that
talks to DynamoDB while the service runs, so a new call there without a grant (the workshop
forgot PutItem and DeleteItem), or a grant that no code uses, fails here in either direction.
Each operation is granted on its own resources only: the table operations on the two tables,
Query on the owner index (`<table ARN>/index/byOwner`), as `store/table.py` splits them.

The task role's only other grants are the telemetry collector's, derived the same way from
its configuration in the template: the exporters its pipelines use, each with the calls it
makes (read from their source), on the resources its configuration names.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable
from typing import Any

import botocore.session

from todo_service.store import calls, idempotency, listing, todos, toggles
from todo_service.store.table import (
    IDEMPOTENCY_PARTITION_KEY,
    OWNER_INDEX,
    OWNER_INDEX_OPERATIONS,
    PARTITION_KEY,
    SERVICE_OPERATIONS,
    TABLE_OPERATIONS,
)

from .templates import (
    Synthesized,
    api_container,
    arn_of,
    as_list,
    collector_config,
    only,
    ref,
    table_keyed_by,
)

# The store's modules that run while the service serves (not create-table or seed, which are
# run by a person with their own credentials).
SERVING_MODULES = (calls, idempotency, listing, todos, toggles)
# What each collector exporter calls at run time (their source: awsemf's cwlog_client.go puts
# events and creates its stream when missing, CreateLogGroup only for a group that does not
# exist, which ours always does; awsxray's PutTraceSegments, with telemetry records off).
EXPORTER_ACTIONS = {
    "awsemf": frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}),
    "awsxray": frozenset({"xray:PutTraceSegments"}),
}


def _is_client(node: ast.AST) -> bool:
    """`self._client`, or a name `client` (the store's functions take it as a parameter)."""
    if isinstance(node, ast.Name):
        return node.id == "client"
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "_client"
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def operations_called_by_repository() -> set[str]:
    """DynamoDB's names for every `client.<method>(...)` call in the store's serving modules.

    Fails if a module reaches the client any other way than calling it, passing it on to
    another of these modules, or keeping it (an alias, getattr, a paginator), since then this
    reading could miss an operation.
    """
    service_model = botocore.session.get_session().get_service_model("dynamodb")
    # botocore's own mapping from client method names (describe_table) to operations.
    operation_of = {botocore.xform_name(name): name for name in service_model.operation_names}
    called: set[str] = set()
    for module in SERVING_MODULES:
        tree = ast.parse(inspect.getsource(module))
        allowed: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Attribute) and _is_client(node.func.value):
                    method = node.func.attr
                    assert method in operation_of, f"not a DynamoDB operation: {method}"
                    called.add(operation_of[method])
                    allowed.add(id(node.func.value))
                allowed.update(id(arg) for arg in node.args if _is_client(arg))
            elif isinstance(node, ast.Assign) and _is_client(node.value):
                allowed.add(id(node.value))  # self._client = client
        other_uses = [
            node.lineno
            for node in ast.walk(tree)
            if _is_client(node)
            and id(node) not in allowed
            and not isinstance(getattr(node, "ctx", None), ast.Store)
        ]
        assert not other_uses, f"{module.__name__} uses the client otherwise: {other_uses}"
    return called


def _dynamodb_actions(statement: dict[str, Any]) -> set[str]:
    return {a for a in as_list(statement["Action"]) if a.lower().startswith("dynamodb:")}


def _statements_of_role(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if ref(role_id) in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    role = synthesized.resources("AWS::IAM::Role")[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    for inline in role.get("Policies", []):
        statements.extend(inline["PolicyDocument"]["Statement"])
    return statements


def _actions(operations: frozenset[str]) -> frozenset[str]:
    return frozenset(f"dynamodb:{operation}" for operation in operations)


def _table_arns(synthesized: Synthesized) -> list[Any]:
    """The todo table's ARN, then its idempotency table's: all the table operations may touch."""
    todo_id, _ = table_keyed_by(synthesized, PARTITION_KEY)
    idempotency_id, _ = table_keyed_by(synthesized, IDEMPOTENCY_PARTITION_KEY)
    return [arn_of(todo_id), arn_of(idempotency_id)]


def _owner_index_arn(synthesized: Synthesized) -> dict[str, Any]:
    """IAM's name for the owner index: `<todo table ARN>/index/byOwner`, nothing wider."""
    todo_id, _ = table_keyed_by(synthesized, PARTITION_KEY)
    return {"Fn::Join": ["", [arn_of(todo_id), f"/index/{OWNER_INDEX}"]]}


def _expected_grants(synthesized: Synthesized) -> list[tuple[frozenset[str], list[Any]]]:
    """(actions, resources) of each statement the service's fences must hold, and only these."""
    return [
        (_actions(TABLE_OPERATIONS), _table_arns(synthesized)),
        (_actions(OWNER_INDEX_OPERATIONS), [_owner_index_arn(synthesized)]),
    ]


def _collector_grants(synthesized: Synthesized) -> list[tuple[frozenset[str], list[Any]]]:
    """(actions, resources) the collector's pipelines need: its exporters' calls, scoped."""
    config = collector_config(synthesized)
    used = {e for p in config["service"]["pipelines"].values() for e in p["exporters"]}
    assert used <= set(EXPORTER_ACTIONS), f"an exporter with unknown calls: {used}"
    grants = []
    for exporter in sorted(used):
        if exporter == "awsemf":
            # The one log group the exporter writes to, the stack's own (its ARN covers its
            # streams).
            group = config["exporters"]["awsemf"]["log_group_name"]
            resources: list[Any] = [arn_of(group.strip("<>"))]
        else:
            resources = ["*"]  # PutTraceSegments has no resource-level permissions
        grants.append((EXPORTER_ACTIONS[exporter], resources))
    return grants


def _grant(statement: dict[str, Any]) -> tuple[frozenset[str], list[Any]]:
    return frozenset(as_list(statement["Action"])), as_list(statement["Resource"])


def _in_order(grants: Iterable[tuple[frozenset[str], list[Any]]]) -> list[Any]:
    # By sorted actions: a frozenset's own text follows the process's string hashes, so two
    # equal sets can sort differently (and did, one run in a few).
    return sorted(grants, key=lambda grant: (sorted(grant[0]), str(grant[1])))


def test_service_operations_are_exactly_what_the_repository_calls() -> None:
    assert operations_called_by_repository() == set(SERVICE_OPERATIONS)


def test_table_and_index_operations_split_the_service_operations_without_overlap() -> None:
    # Every operation has one home: an operation in both sets would be granted on both.
    assert not TABLE_OPERATIONS & OWNER_INDEX_OPERATIONS
    assert TABLE_OPERATIONS | OWNER_INDEX_OPERATIONS == SERVICE_OPERATIONS
    assert {"Query"} == OWNER_INDEX_OPERATIONS


def test_task_role_may_call_the_table_operations_on_the_tables_and_query_on_the_index_alone(
    synthesized_each_mode: Synthesized,
) -> None:
    synthesized = synthesized_each_mode
    _, task = only(synthesized.resources("AWS::ECS::TaskDefinition"))
    task_role_id = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    statements = _statements_of_role(synthesized, task_role_id)
    assert all(statement["Effect"] == "Allow" for statement in statements)
    # The task role holds nothing but these grants: no more actions, no wider resource.
    expected = _expected_grants(synthesized) + _collector_grants(synthesized)
    assert _in_order(map(_grant, statements)) == _in_order(expected)
    granted = {action for statement in statements for action in as_list(statement["Action"])}
    assert {a for a in granted if a.startswith("dynamodb:")} == _actions(SERVICE_OPERATIONS)


def test_collector_writes_only_to_the_metrics_log_group_it_is_configured_with(
    synthesized: Synthesized,
) -> None:
    config = collector_config(synthesized)
    group_id = config["exporters"]["awsemf"]["log_group_name"].strip("<>")
    # A log group of the stack (so the exporter never needs logs:CreateLogGroup), not the
    # API's own log group, whose lines the access-log queries read.
    group = synthesized.resources("AWS::Logs::LogGroup")[group_id]
    assert group["Properties"]["RetentionInDays"] == 7
    api = api_container(synthesized)
    assert api["LogConfiguration"]["Options"]["awslogs-group"] != ref(group_id)


def test_no_policy_grants_dynamodb_on_any_resource_but_the_tables_and_the_index(
    synthesized: Synthesized,
) -> None:
    expected = _expected_grants(synthesized)
    documents = [
        p["Properties"]["PolicyDocument"]
        for p in synthesized.resources("AWS::IAM::Policy").values()
    ]
    for role in synthesized.resources("AWS::IAM::Role").values():
        documents.extend(p["PolicyDocument"] for p in role["Properties"].get("Policies", []))
    granting = [s for d in documents for s in d["Statement"] if _dynamodb_actions(s)]
    assert granting, "no policy grants DynamoDB access at all"
    for statement in granting:
        assert "*" not in as_list(statement["Action"])
        assert not any(a.endswith("*") for a in _dynamodb_actions(statement))
        assert not any("*" in str(resource) for resource in as_list(statement["Resource"]))
        assert _grant(statement) in expected, statement


def test_dynamodb_endpoint_lets_through_only_the_service_operations_on_their_resources(
    synthesized_each_mode: Synthesized,
) -> None:
    synthesized = synthesized_each_mode
    _, endpoint = only(synthesized.resources("AWS::EC2::VPCEndpoint"))
    props = endpoint["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    assert props["ServiceName"]["Fn::Join"][1][-1] == ".dynamodb"
    statements = props["PolicyDocument"]["Statement"]
    assert all(statement["Effect"] == "Allow" for statement in statements)
    assert _in_order(map(_grant, statements)) == _in_order(_expected_grants(synthesized))
    # The principal is everyone in the VPC: the endpoint fences what, the role fences who.
    assert all(statement["Principal"] == {"AWS": "*"} for statement in statements)


def test_dynamodb_endpoint_serves_the_private_subnets_where_the_tasks_run(
    synthesized: Synthesized,
) -> None:
    _, endpoint = only(synthesized.resources("AWS::EC2::VPCEndpoint"))
    _, service = only(synthesized.resources("AWS::ECS::Service"))
    task_subnets = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
    associations = synthesized.resources("AWS::EC2::SubnetRouteTableAssociation").values()
    route_table_of = {
        a["Properties"]["SubnetId"]["Ref"]: a["Properties"]["RouteTableId"] for a in associations
    }
    assert len(task_subnets) == 2
    assert sorted(map(str, endpoint["Properties"]["RouteTableIds"])) == sorted(
        str(route_table_of[subnet["Ref"]]) for subnet in task_subnets
    )
