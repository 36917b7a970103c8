#!/usr/bin/env python3
"""`cdk deploy` deploys todo-service; see "Deploy with AWS CDK" in the README."""

import aws_cdk as cdk

from todo_cdk.assembly import build

app = cdk.App()
build(app)
app.synth()
