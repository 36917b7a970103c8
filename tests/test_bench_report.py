"""The benchmark's ratios for issues 12 and 13 come from the right rows (bench/report.py).

The benchmark itself is not part of the test run; these check the arithmetic that turns one
run's rows into the auth-cost and FastAPI ratios, since a row taken from the wrong contender
or scenario would report a ratio that looks plausible and means nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.contenders import is_cognito, service_argv
from bench.report import AUTH_COST_GOAL, targets
from bench.seedbench import write_seed_file


def _row(contender: str, scenario: str, rps: float, cpu: float, **extra: Any) -> dict[str, Any]:
    return {
        "mode": "delayed",
        "contender": contender,
        "scenario": scenario,
        "connections": 128,
        "load": "peak",
        "rps": rps,
        "cpu_s_per_1k": cpu,
        "minstr_per_req": None,
        **extra,
    }


def _results(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "options": {"connections": [16, 128], "scenarios": ["get", "list"], "modes": ["delayed"]},
        "rows": rows,
        "seed": [],
    }


def _by_name(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["target"]: t for t in targets(results)}


def test_auth_cost_is_cognito_cpu_over_none_cpu_per_scenario_and_worker_count() -> None:
    rows = [
        _row("service-2w", "get", 500, 2.0),
        _row("service-2w-cognito", "get", 450, 2.2),
        _row("service-2w", "list", 150, 6.0),
        _row("service-2w-cognito", "list", 120, 7.5),
        _row("service-1w", "get", 400, 1.6),
        _row("service-1w-cognito", "get", 380, 2.0),
        # Another connection count must not be picked up.
        {**_row("service-2w-cognito", "get", 90, 9.0), "connections": 16},
    ]
    found = _by_name(_results(rows))
    get2 = found["7. CPU/req cognito vs none (service-2w, get)"]
    assert (get2["value"], get2["met"]) == (1.1, True)
    list2 = found["7. CPU/req cognito vs none (service-2w, list)"]
    assert (list2["value"], list2["met"]) == (1.25, False)
    get1 = found["7. CPU/req cognito vs none (service-1w, get)"]
    assert (get1["value"], get1["met"]) == (1.25, False)
    assert get2["goal"] == f"<= {AUTH_COST_GOAL:g}"
    # No cognito row for 1 worker on list: no ratio rather than a made-up one.
    assert "7. CPU/req cognito vs none (service-1w, list)" not in found


def test_fastapi_ratios_compare_two_workers_with_two_workers() -> None:
    rows = [
        _row("service-2w", "get", 600, 2.0),
        _row("fastapi-2w", "get", 400, 2.5),
        _row("fastapi-1w", "get", 100, 1.0),
        _row("service-2w", "list", 150, 6.0),
        _row("fastapi-2w", "list", 120, 6.0),
    ]
    found = _by_name(_results(rows))
    rps = found["8. req/s (service-2w vs fastapi-2w, get)"]
    assert (rps["value"], rps["met"]) == (1.5, True)
    assert found["8. CPU/req (service-2w vs fastapi-2w, get)"]["value"] == 0.8
    listed = found["8. req/s (service-2w vs fastapi-2w, list)"]
    assert (listed["value"], listed["met"]) == (1.25, False)


def test_paced_tail_is_reported_for_fastapi_beside_ours_with_the_goal_on_ours_alone() -> None:
    paced = {"load": "70%", "fraction_of_peak": 0.7}
    rows = [
        _row("service-2w", "get", 300, 2.0, p50_ms=20.0, p99_ms=50.0, **paced),
        _row("fastapi-2w", "get", 200, 2.0, p50_ms=10.0, p99_ms=100.0, **paced),
        _row("fastapi-1w", "get", 900, 2.0, p50_ms=10.0, p99_ms=20.0),  # peak: not a paced row
    ]
    found = _by_name(_results(rows))
    ours = found["4. p99/p50 at 0.7 of peak (service-2w, get)"]
    assert (ours["value"], ours["goal"], ours["met"]) == (2.5, "< 3", True)
    theirs = found["4. p99/p50 at 0.7 of peak (fastapi-2w, get)"]
    assert (theirs["value"], theirs["goal"], theirs["met"]) == (10.0, "report", None)
    assert not any("fastapi-1w" in name for name in found)


def test_cognito_contenders_run_the_same_server_command_as_their_none_twins() -> None:
    assert is_cognito("service-2w-cognito")
    assert not is_cognito("service-2w")
    assert service_argv("service-2w-cognito", 8000) == service_argv("service-2w", 8000)
    assert service_argv("service-1w-cognito", 8000) == service_argv("service-1w", 8000)


def test_fastapi_contenders_run_uvicorn_with_their_worker_count_uvloop_and_httptools() -> None:
    for workers in (1, 2):
        argv = service_argv(f"fastapi-{workers}w", 8000)
        assert argv[0].endswith("uvicorn")
        assert f"--workers={workers}" in argv
        assert {"--loop=uvloop", "--http=httptools"} <= set(argv)


def test_owned_seed_file_is_the_same_todos_each_with_the_owner(tmp_path: Path) -> None:
    owned = json.loads(write_seed_file(tmp_path / "o.json", "T", 3, owner="sub-1").read_text())
    plain = json.loads(write_seed_file(tmp_path / "p.json", "T", 3).read_text())
    owned_items = [r["PutRequest"]["Item"] for r in owned["T"]]
    plain_items = [r["PutRequest"]["Item"] for r in plain["T"]]
    assert [i["owner"] for i in owned_items] == [{"S": "sub-1"}] * 3
    assert all("owner" not in i for i in plain_items)
    # Otherwise the same todos: the two modes read the same data but for its owner.
    assert [{k: v for k, v in i.items() if k != "owner"} for i in owned_items] == plain_items
