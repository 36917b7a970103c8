"""IncidentQueries: the saved CloudWatch Logs Insights queries for the API's log group.

They read the access line `todo_service.logs.JsonAccessLogger` writes for every request
(`"message": "request"`), by its field names: `route` is the route template (bounded, so it
groups), `path` the path as sent, `traceId` the request's trace (X-Ray's console opens it),
and `authReason` why a 401's token was refused. tests/cdk check every field used here is in
the access line the service writes.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from aws_cdk import aws_logs as logs
from constructs import Construct

# The folder the queries appear under in the console's saved queries.
FOLDER: Final = "todo-service"
# Logs Insights saves no parameters: the operator pastes the id over this before running.
REQUEST_ID_PLACEHOLDER: Final = "PASTE-THE-REQUEST-ID"
SLOWEST_LIMIT: Final = 50


@dataclasses.dataclass(frozen=True, slots=True)
class SavedQuery:
    name: str
    text: str


ACCESS_LINE: Final = 'filter message = "request"'

QUERIES: Final = (
    SavedQuery(
        "5xx responses by route",
        "\n".join(
            [
                "fields @timestamp, route, status",
                f"| {ACCESS_LINE} and status >= 500",
                "| stats count(*) as responses by route, status",
                "| sort responses desc",
            ]
        ),
    ),
    SavedQuery(
        "Slowest requests",
        "\n".join(
            [
                "fields @timestamp, durationMs, method, route, path, status, requestId, traceId",
                f"| {ACCESS_LINE}",
                "| sort durationMs desc",
                f"| limit {SLOWEST_LIMIT}",
            ]
        ),
    ),
    SavedQuery(
        "Every line of one request",
        "\n".join(
            [
                "fields @timestamp, level, logger, message, @message",
                f'| filter requestId = "{REQUEST_ID_PLACEHOLDER}"',
                "| sort @timestamp asc",
            ]
        ),
    ),
    SavedQuery(
        "Refused tokens by reason",
        "\n".join(
            [
                "fields @timestamp, authReason",
                f"| {ACCESS_LINE} and status = 401",
                "| stats count(*) as refusals by authReason",
                "| sort refusals desc",
            ]
        ),
    ),
)


class IncidentQueries(Construct):
    """One AWS::Logs::QueryDefinition per entry of QUERIES, on `log_group` alone."""

    def __init__(self, scope: Construct, construct_id: str, *, log_group: logs.ILogGroup) -> None:
        super().__init__(scope, construct_id)
        for index, query in enumerate(QUERIES):
            logs.CfnQueryDefinition(
                self,
                f"Query{index}",
                name=f"{FOLDER}/{query.name}",
                query_string=query.text,
                log_group_names=[log_group.log_group_name],
            )
