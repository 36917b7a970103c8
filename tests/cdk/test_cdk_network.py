"""TodoNetwork: two AZs, private subnets with a way out, and flow logs."""

from __future__ import annotations

from typing import Any

from .templates import Synthesized, only


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


HTTPS_PORT = 443
ANYWHERE = "0.0.0.0/0"


def _allows_https_anywhere(rule: dict[str, Any]) -> bool:
    if rule.get("CidrIp") != ANYWHERE:
        return False
    if str(rule["IpProtocol"]) == "-1":
        return True
    return rule["IpProtocol"] == "tcp" and rule["FromPort"] <= HTTPS_PORT <= rule["ToPort"]


def _default_route(synthesized: Synthesized, route_table: Any) -> dict[str, Any]:
    (route,) = [
        r["Properties"]
        for r in synthesized.resources("AWS::EC2::Route").values()
        if r["Properties"]["RouteTableId"] == route_table
        and r["Properties"].get("DestinationCidrBlock") == ANYWHERE
    ]
    return route


def test_tasks_reach_cognitos_public_keys_over_https_through_the_nat_gateways(
    synthesized: Synthesized,
) -> None:
    # The service fetches https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/
    # jwks.json: the tasks' group must let HTTPS out, and their subnets route it to a NAT
    # gateway, which reaches the internet gateway.
    _, service = only(synthesized.resources("AWS::ECS::Service"))
    network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    (group,) = network["SecurityGroups"]
    group_id = group["Fn::GetAtt"][0]
    egress = synthesized.resources("AWS::EC2::SecurityGroup")[group_id]["Properties"].get(
        "SecurityGroupEgress", []
    ) + [
        r["Properties"]
        for r in synthesized.resources("AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == group
    ]
    assert any(_allows_https_anywhere(rule) for rule in egress), egress
    # No network ACL of ours could drop the traffic on the way.
    assert synthesized.resources("AWS::EC2::NetworkAcl") == {}
    route_table_of = {
        a["Properties"]["SubnetId"]["Ref"]: a["Properties"]["RouteTableId"]
        for a in synthesized.resources("AWS::EC2::SubnetRouteTableAssociation").values()
    }
    nat_gateways = synthesized.resources("AWS::EC2::NatGateway")
    internet_gateway_id, _ = only(synthesized.resources("AWS::EC2::InternetGateway"))
    for subnet in network["Subnets"]:
        nat_id = _default_route(synthesized, route_table_of[subnet["Ref"]])["NatGatewayId"]["Ref"]
        nat_subnet = nat_gateways[nat_id]["Properties"]["SubnetId"]["Ref"]
        outward = _default_route(synthesized, route_table_of[nat_subnet])
        assert outward["GatewayId"] == {"Ref": internet_gateway_id}
    # No interface endpoint whose private DNS would capture Cognito's host name.
    endpoints = synthesized.resources("AWS::EC2::VPCEndpoint").values()
    assert [e["Properties"]["VpcEndpointType"] for e in endpoints] == ["Gateway"]
