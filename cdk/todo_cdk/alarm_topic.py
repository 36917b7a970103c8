"""The SNS topic each stack's alarms go to, and the monitoring facade that wires them to it."""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    DefaultDashboardFactory,
    MonitoringFacade,
    SnsAlarmActionStrategy,
)
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

# The prefix of every alarm's name, so one search in the console finds them all.
ALARM_NAME_PREFIX: Final = "TodoService"


def alarm_topic(scope: Construct, construct_id: str, email: str | None) -> sns.Topic:
    """A topic that mails `email` (a subscription SNS asks them to confirm), or no one."""
    topic = sns.Topic(
        scope,
        construct_id,
        display_name="todo-service alarms",
        enforce_ssl=True,
    )
    if email is not None:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    NagSuppressions.add_resource_suppressions(
        topic,
        [
            NagPackSuppression(
                id="AwsSolutions-SNS2",
                reason="Alarm notifications carry only an alarm's name, state and reason; "
                "CloudWatch cannot publish to a topic under the AWS-managed aws/sns key, and "
                "a customer-managed key costs $1 a month per region for no secret.",
            )
        ],
    )
    return topic


def alarm_facade(
    scope: Construct, construct_id: str, topic: sns.ITopic, dashboard_name: str | None
) -> MonitoringFacade:
    """cdk-monitoring-constructs' facade: every alarm it makes notifies `topic`.

    With `dashboard_name` its widgets form that one dashboard; with None, no dashboard.
    """
    dashboards = DefaultDashboardFactory(
        scope,
        f"{construct_id}Dashboards",
        dashboard_name_prefix=dashboard_name or construct_id,
        create_dashboard=dashboard_name is not None,
        create_summary_dashboard=False,
        create_alarm_dashboard=False,
    )
    return MonitoringFacade(
        scope,
        construct_id,
        alarm_factory_defaults=AlarmFactoryDefaults(
            actions_enabled=True,
            alarm_name_prefix=ALARM_NAME_PREFIX,
            action=SnsAlarmActionStrategy(on_alarm_topic=topic, on_ok_topic=topic),
        ),
        dashboard_factory=dashboards,
    )
