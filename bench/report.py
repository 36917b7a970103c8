"""Results: JSON, a Markdown table with the targets as ratios, a chart, bench/README.md."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
ORDER = (
    "service-2w",
    "service-1w",
    "service-2w-cognito",
    "service-1w-cognito",
    "fastapi-2w",
    "fastapi-1w",
    "floor",
    "flask",
    "gunicorn",
)
# The auth-cost target (issue 12): cognito mode's CPU per request at most this times none's.
AUTH_COST_GOAL = 1.15


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    versions = {}
    for package in (
        "aiohttp",
        "aiobotocore",
        "botocore",
        "msgspec",
        "pyjwt",
        "cryptography",
        "flask",
        "gunicorn",
        "fastapi",
        "uvicorn",
        "uvloop",
        "httptools",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    for tool, argv in (("node", ["node", "--version"]), ("wrk", ["wrk", "--version"])):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        versions[tool] = (done.stdout or done.stderr).split("\n")[0].strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def _find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    for r in rows:
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 2)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's six targets, from this run's rows: value, goal and whether it is met."""
    rows, out = results["rows"], []
    connections = max(results["options"]["connections"])
    mode = "delayed" if "delayed" in results["options"]["modes"] else "direct"

    def peak(contender: str, scenario: str) -> dict[str, Any] | None:
        return _find(
            rows,
            mode=mode,
            contender=contender,
            scenario=scenario,
            connections=connections,
            load="peak",
        )

    def add(name: str, value: float | None, goal: str, met: bool | None) -> None:
        out.append({"target": name, "value": value, "goal": goal, "met": met})

    for scenario in results["options"]["scenarios"]:
        ours = peak("service-2w", scenario) or peak("service-1w", scenario)
        if ours is None:
            continue
        a, b, floor = (peak(c, scenario) for c in ("flask", "gunicorn", "floor"))
        who = f"{ours['contender']}, {scenario}"
        if a:
            v = _ratio(ours["rps"], a["rps"])
            add(f"1. req/s vs A ({who})", v, ">= 3", v is not None and v >= 3)
            v = _ratio(ours["cpu_s_per_1k"], a["cpu_s_per_1k"])
            add(f"2. CPU/req vs A ({who})", v, "<= 0.4", v is not None and v <= 0.4)
        if b:
            v = _ratio(ours["rps"], b["rps"])
            add(f"1. req/s vs B ({who})", v, ">= 4", v is not None and v >= 4)
            v = _ratio(ours["cpu_s_per_1k"], b["cpu_s_per_1k"])
            add(f"2. CPU/req vs B ({who})", v, "<= 0.4", v is not None and v <= 0.4)
        if floor:
            v = _ratio(ours["cpu_s_per_1k"], floor["cpu_s_per_1k"])
            add(f"3. CPU/req vs floor ({who})", v, "<= 1", v is not None and v <= 1)
            v = _ratio(ours.get("minstr_per_req"), floor.get("minstr_per_req"))
            if v is not None:
                add(f"3. instructions/req vs floor ({who})", v, "<= 1", v <= 1)
    # FastAPI's tail at the same pacing is reported beside ours (issue 13); the goal is ours.
    for contender in ("service-2w", "service-1w", "fastapi-2w", "fastapi-1w"):
        paced = _find(
            rows,
            mode=mode,
            contender=contender,
            scenario="get",
            connections=connections,
            load="70%",
        )
        if paced:
            v = _ratio(paced["p99_ms"], paced["p50_ms"])
            name = f"4. p99/p50 at {paced.get('fraction_of_peak')} of peak ({contender}, get)"
            if contender.startswith("service"):
                add(name, v, "< 3", v is not None and v < 3)
            else:
                add(name, v, "report", None)
    for scenario in results["options"]["scenarios"]:
        one, two = peak("service-1w", scenario), peak("service-2w", scenario)
        if one and two:
            add(
                f"5. req/s 2 workers / 1 worker ({scenario})",
                _ratio(two["rps"], one["rps"]),
                "report",
                None,
            )
    for scenario in results["options"]["scenarios"]:
        for workers in ("2w", "1w"):
            none, cognito = (
                peak(f"service-{workers}", scenario),
                peak(f"service-{workers}-cognito", scenario),
            )
            if not (none and cognito):
                continue
            who = f"service-{workers}, {scenario}"
            goal = f"<= {AUTH_COST_GOAL:g}"
            v = _ratio(cognito["cpu_s_per_1k"], none["cpu_s_per_1k"])
            add(
                f"7. CPU/req cognito vs none ({who})",
                v,
                goal,
                v is not None and v <= AUTH_COST_GOAL,
            )
            v = _ratio(cognito.get("minstr_per_req"), none.get("minstr_per_req"))
            if v is not None:
                add(f"7. instructions/req cognito vs none ({who})", v, goal, v <= AUTH_COST_GOAL)
    for scenario in results["options"]["scenarios"]:
        ours, fastapi = peak("service-2w", scenario), peak("fastapi-2w", scenario)
        if not (ours and fastapi):
            continue
        who = f"service-2w vs fastapi-2w, {scenario}"
        v = _ratio(ours["rps"], fastapi["rps"])
        # Issue 13's goal names get and list; the writes are reported.
        if scenario in ("get", "list"):
            add(f"8. req/s ({who})", v, ">= 1.5", v is not None and v >= 1.5)
        else:
            add(f"8. req/s ({who})", v, "report", None)
        add(
            f"8. CPU/req ({who})",
            _ratio(ours["cpu_s_per_1k"], fastapi["cpu_s_per_1k"]),
            "report",
            None,
        )
        v = _ratio(ours.get("minstr_per_req"), fastapi.get("minstr_per_req"))
        if v is not None:
            add(f"8. instructions/req ({who})", v, "report", None)
    for seed_mode in ("delayed", "direct"):
        ours = _find(results["seed"], mode=seed_mode, loader="todo-service seed")
        boto = _find(results["seed"], mode=seed_mode, loader="boto3 batch_writer")
        if ours and boto:
            v = _ratio(ours["items_per_s"], boto["items_per_s"])
            add(
                f"6. seed items/s vs batch_writer ({seed_mode})",
                v,
                ">= 5",
                v is not None and v >= 5,
            )
    return out


def _per_1k(seconds: float | None, requests: int) -> float | None:
    return None if seconds is None or not requests else round(seconds / requests * 1000, 3)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def markdown(results: dict[str, Any]) -> str:
    m, o = results["machine"], results["options"]
    rtt = results["proxy_rtt"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}; load average at start {m['loadavg']} (the machine is shared: "
        "compare ratios within this run, not absolute numbers across runs).",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v) + ".",
        "",
        f"Each run: {o['warmup_s']:g} s warm-up, then {o['duration_s']:g} s measured; "
        f"{o['items']:,} todos per table. Added-latency mode: +{o['delay_ms_each_way']:g} ms "
        f"each way through the proxy, measured round trip +{rtt['before']['added_p50_ms']:.2f} "
        f"ms at p50 before the run and +{rtt['after']['added_p50_ms']:.2f} ms after it.",
        "",
        "### Targets (added latency, highest connection count, one run)",
        "",
        "| Target | Value | Goal | Met |",
        "| --- | ---: | --- | --- |",
    ]
    for t in targets(results):
        met = {True: "yes", False: "**no**", None: ""}[t["met"]]
        lines.append(f"| {t['target']} | {_fmt(t['value'])} | {t['goal']} | {met} |")
    if results["seed"]:
        lines += [
            "",
            f"### Seed loader ({o['items']:,} items)",
            "",
            "| Mode | Loader | Seconds | Items/s |",
            "| --- | --- | ---: | ---: |",
        ]
        for s in results["seed"]:
            lines.append(
                f"| {s['mode']} | {s['loader']} | {s['seconds']:.2f} | {s['items_per_s']:,.0f} |"
            )
    lines += ["", "### All runs", ""]
    lines += [
        "CPU = the contender's CPU seconds per 1,000 requests (all its processes), which swells "
        "when the cores are crowded; Minstr/req = millions of instructions it executed per "
        "request (perf), which does not; RSS = its peak resident memory since start (summed "
        "over processes); dynalite CPU = the backend's CPU seconds per 1,000 requests, to show "
        "when the backend is the bound. `70%` rows pace the connections to 70% of the peak "
        "rate just measured. Floor rows have no HTTP: their errors are failed calls.",
        "",
        "| Mode | Contender | Scenario | Conns | Load | req/s | p50 ms | p95 ms | p99 ms | Errors "
        "| CPU s/1k req | Minstr/req | RSS MB | dynalite CPU s/1k |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    order = {name: i for i, name in enumerate(ORDER)}
    rows = sorted(
        results["rows"],
        key=lambda r: (
            r["mode"] != "delayed",
            o["scenarios"].index(r["scenario"]),
            r["connections"],
            order.get(r["contender"], 99),
            r["load"],
        ),
    )
    for r in rows:
        lines.append(
            f"| {r['mode']} | {r['contender']} | {r['scenario']} | {r['connections']} | "
            f"{r['load']} | {_fmt(r['rps'])} | {_fmt(r['p50_ms'])} | {_fmt(r['p95_ms'])} | "
            f"{_fmt(r['p99_ms'])} | {r['errors']} | {_fmt(r['cpu_s_per_1k'])} | "
            f"{_fmt(r.get('minstr_per_req'))} | {_fmt(r['peak_rss_mb'])} | "
            f"{_fmt(_per_1k(r.get('dynalite_cpu_s'), r['requests']))} |"
        )
    lines += [
        "",
        "Contenders: " + "; ".join(f"`{k}` {v}" for k, v in results["contenders"].items()) + ".",
    ]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in results["rows"] if r["load"] == "peak"]
    connections = max(results["options"]["connections"])
    modes = [m for m in ("delayed", "direct") if m in results["options"]["modes"]]
    # health runs at one connection count only: it has its own row in the table.
    scenarios = [s for s in results["options"]["scenarios"] if s != "health"]
    contenders = [c for c in ORDER if c in results["contenders"]]
    metrics = [("rps", "requests/s"), ("cpu_s_per_1k", "CPU ms per request")]
    if any(r.get("minstr_per_req") for r in rows):
        metrics.append(("minstr_per_req", "M instructions per request"))
    fig, axes = plt.subplots(
        len(metrics), len(modes), figsize=(6.5 * len(modes), 4 * len(metrics)), squeeze=False
    )
    width = 0.8 / max(1, len(contenders))
    for col, mode in enumerate(modes):
        for line, (metric, label) in enumerate(metrics):
            ax = axes[line][col]
            for i, contender in enumerate(contenders):
                values = []
                for scenario in scenarios:
                    r = _find(
                        rows,
                        mode=mode,
                        contender=contender,
                        scenario=scenario,
                        connections=connections,
                    )
                    values.append((r or {}).get(metric) or 0)
                ax.bar(
                    [x + i * width for x in range(len(scenarios))], values, width, label=contender
                )
            ax.set_xticks([x + width * (len(contenders) - 1) / 2 for x in range(len(scenarios))])
            ax.set_xticklabels(scenarios)
            ax.set_ylabel(label)
            title = "+{:g} ms each way".format(results["options"]["delay_ms_each_way"])
            ax.set_title(
                f"{label}, {connections} connections, "
                f"{title if mode == 'delayed' else 'plain loopback'}"
            )
            ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=90)
    plt.close(fig)


def write(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    text = markdown(results)
    (out / "latest.md").write_text("# Latest benchmark results\n\n" + text)
    chart(results, out / "chart.png")
    if out.resolve() == README.parent.resolve() / "results" and README.exists():
        readme = README.read_text()
        block = f"{BEGIN}\n{text}{END}"
        readme = re.sub(
            re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, readme, flags=re.S
        )
        README.write_text(readme)
