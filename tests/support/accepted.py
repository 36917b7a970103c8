"""Findings of tools we did not write, held to a list of accepted ones, each with its reason.

The lists are TOML files with one table per tool, `finding id = "reason"` (cdk/validators.toml
for the template validators, .github/accepted-findings.toml for the workflow linters). A
finding not listed fails, and so does a listed one that no longer occurs, so a list never goes
stale.
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Mapping, Set
from pathlib import Path

import pytest


def accepted_findings(list_file: Path) -> dict[str, dict[str, str]]:
    """Each tool's accepted findings in `list_file`: {tool: {finding id: reason}}."""
    return tomllib.loads(list_file.read_text())


def tool_on_path(name: str) -> str:
    """The path of the command `name`, or a skip saying how to provision it."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not on PATH: run `bash .ci/provision-tools.sh`, add .tools/bin")
    return found


def assert_only_accepted(
    tool: str, found: Mapping[str, Set[str]], list_file: Path, accepted: Mapping[str, str]
) -> None:
    """`found` maps finding id -> where it was found: each must be in `accepted`, and each of
    `accepted` (the tool's table of `list_file`) must still be found."""
    blank = sorted(finding for finding, reason in accepted.items() if not reason.strip())
    assert not blank, f"{tool}: {list_file.name} accepts without a reason: {blank}"
    unexpected = {
        finding: sorted(where) for finding, where in found.items() if finding not in accepted
    }
    assert not unexpected, f"{tool}: fix, or accept in {list_file.name} with a reason: {unexpected}"
    stale = sorted(set(accepted) - set(found))
    assert not stale, f"{tool}: {list_file.name} accepts findings no longer made: {stale}"
