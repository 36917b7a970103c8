"""TodoNetwork: two AZs, private subnets with a way out, and flow logs."""

from __future__ import annotations

from .templates import Synthesized


def test_vpc_spans_two_azs_with_a_public_and_a_private_subnet_in_each(
    synthesized: Synthesized,
) -> None:
    subnets = [s["Properties"] for s in synthesized.resources("AWS::EC2::Subnet").values()]
    public = [s for s in subnets if s["MapPublicIpOnLaunch"]]
    private = [s for s in subnets if not s["MapPublicIpOnLaunch"]]
    assert len(public) == len(private) == 2
    assert len({str(s["AvailabilityZone"]) for s in private}) == 2


def test_each_az_has_its_own_nat_gateway_by_default(synthesized: Synthesized) -> None:
    assert len(synthesized.resources("AWS::EC2::NatGateway")) == 2


def test_vpc_flow_logs_go_to_the_access_log_bucket(synthesized: Synthesized) -> None:
    (flow_log,) = synthesized.resources("AWS::EC2::FlowLog").values()
    props = flow_log["Properties"]
    assert props["TrafficType"] == "ALL"
    assert props["LogDestinationType"] == "s3"
    assert "AccessLogs" in str(props["LogDestination"])
