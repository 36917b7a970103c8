"""The CDK app, synthesized once per session the way `cdk synth` does, for the template tests.

aws-cdk-lib runs in Node.js (through jsii): without `node` on PATH nothing here can even be
imported, so the directory is skipped, or fails where TODO_TEST_NO_SKIP=1 forbids skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

if shutil.which("node") is None:
    _reason = "the CDK tests need Node.js (node on PATH): aws-cdk-lib runs in it through jsii"
    if os.environ.get("TODO_TEST_NO_SKIP") == "1":
        raise RuntimeError(_reason)
    pytest.skip(_reason, allow_module_level=True)

# jsii prints a banner when the machine's Node.js is past its support window. The README asks
# deployers for a current Node; in the test output the banner only buries the results.
_node_major = subprocess.run(
    ["node", "-p", "process.versions.node.split('.')[0]"],
    capture_output=True,
    text=True,
    check=True,
    timeout=30,
).stdout.strip()
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", _node_major)

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Annotations, Template  # noqa: E402

from todo_cdk.assembly import build  # noqa: E402

from .cli import CDK_DIR, REGION  # noqa: E402
from .templates import Synthesized  # noqa: E402


def cdk_json_context() -> dict[str, Any]:
    """The feature flags and settings of cdk/cdk.json, which the CLI hands to the app."""
    context: dict[str, Any] = json.loads((CDK_DIR / "cdk.json").read_text())["context"]
    return context


def _validation_failures(outdir: Path) -> str:
    """The findings of a failed synthesis (cdk-nag errors among them), one per line."""
    report = outdir / "validation-report.json"
    if not report.is_file():
        return "(no validation report)"
    lines = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            paths = [c.get("constructPath") for c in violation.get("violatingConstructs", [])]
            lines.append(f"{violation['description'].strip()} at {paths}")
    return "\n".join(lines)


def _synthesize(outdir: Path, context: dict[str, Any]) -> Synthesized:
    started = time.monotonic()
    app = cdk.App(context=cdk_json_context() | context, outdir=str(outdir))
    stacks = build(app, region=REGION)
    try:
        template = Template.from_stack(stacks.service)
    except RuntimeError as error:
        # Error annotations (cdk-nag's included) make synthesis itself fail.
        pytest.fail(f"synthesis failed: {error}\n{_validation_failures(outdir)}")
    return Synthesized(
        stack=stacks.service,
        template=template,
        annotations=Annotations.from_stack(stacks.service),
        outdir=outdir,
        seconds=time.monotonic() - started,
        edge_stack=stacks.edge,
        edge=Template.from_stack(stacks.edge),
        waf_stack=stacks.waf,
        waf=None if stacks.waf is None else Template.from_stack(stacks.waf),
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The stack as `cdk deploy` makes it by default: TODO_AUTH=cognito, with a user pool."""
    return _synthesize(tmp_path_factory.mktemp("cdk.out"), {})


@pytest.fixture(scope="session")
def synthesized_without_auth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The stack deployed with `-c todo:auth=none`: no user pool, the API open to all."""
    return _synthesize(tmp_path_factory.mktemp("cdk.out-none"), {"todo:auth": "none"})


# Every opt-in at once: the WAF, sign-up closed, an alarm address, every request traced.
OPTIONS_CONTEXT = {
    "todo:waf": "on",
    "todo:signup": "closed",
    "todo:alarmEmail": "ops@example.com",
    "todo:traceSampleRate": "1",
}


@pytest.fixture(scope="session")
def synthesized_with_options(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The stacks with `OPTIONS_CONTEXT`: a third stack (the web ACL) among them."""
    return _synthesize(tmp_path_factory.mktemp("cdk.out-options"), OPTIONS_CONTEXT)


@pytest.fixture(scope="session", params=["cognito", "none"])
def synthesized_each_mode(request: pytest.FixtureRequest) -> Synthesized:
    """Each auth mode's stack in turn, for what must hold in both."""
    name = "synthesized" if request.param == "cognito" else "synthesized_without_auth"
    stack: Synthesized = request.getfixturevalue(name)
    return stack


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Template:
    return synthesized.template
