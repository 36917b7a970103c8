"""The benchmark run: backend, proxy, contenders, load generator, results. See bench/README.md.

Everything runs on loopback, every load run is bounded by its duration (wrk -d, and a hard
subprocess timeout), and every process started here is stopped here, services before the
backend (dynalite throws on clients cut off mid-request).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from todo_service.local.harness import LOOPBACK, LocalServer, free_port

from . import procstats, profiles
from .cognito import BenchUser, bench_user
from .contenders import BIN, CONTENDERS, is_cognito, service_argv
from .proxy import EchoServer, added_rtt_ms, measure_rtt
from .seedbench import write_seed_file

ROOT: Final = Path(__file__).resolve().parents[1]
WRK_SCRIPT: Final = ROOT / "bench" / "wrk" / "scenario.lua"
SCENARIOS: Final = ("get", "list", "create", "toggle", "mix", "health")
# "health" prices the HTTP layer alone (no DynamoDB call): one connection count is enough.
HEALTH_CONNECTIONS: Final = 16
CONNECTIONS: Final = (1, 16, 128)
START_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 15.0
# Past its duration, a load run gets this long to finish before it is killed.
RUN_GRACE_S: Final = 30.0
# Each measured load run has this much load before and after the window that is measured.
EDGE_S: Final = 1.0
# The paced run for the latency target: this fraction of the peak rate just measured.
PACED_FRACTION: Final = 0.7
PACED_TOLERANCE: Final = 0.07


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclasses.dataclass
class Options:
    duration_s: float = 5.0
    warmup_s: float = 1.0
    connections: Sequence[int] = CONNECTIONS
    scenarios: Sequence[str] = SCENARIOS
    contenders: Sequence[str] = tuple(CONTENDERS)
    modes: Sequence[str] = ("direct", "delayed")
    delay_ms: float = 5.0
    items: int = 10_000
    seed_bench: bool = True
    paced: bool = True
    out: Path = ROOT / "bench" / "results"
    profile: str | None = None  # "contender:mode:scenario:connections" to py-spy record
    perf: bool = True  # count instructions with perf where it works

    def perf_window(self) -> float | None:
        return self.duration_s if self.perf else None


def base_env(endpoint: str, table: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "TODO_TABLE_NAME": table,
            "PYTHONPATH": str(ROOT),
        }
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "TODO_CURSOR_SECRET", "TODO_AUTH"):
        env.pop(name, None)
    return env


def bench_json(output: str) -> dict[str, Any]:
    for line in output.splitlines():
        if line.startswith("BENCH-JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH-JSON "))
            return result
    raise RuntimeError(f"no BENCH-JSON line in:\n{output[-2000:]}")


def run_checked(argv: Sequence[str], env: dict[str, str], timeout_s: float) -> str:
    done = subprocess.run(
        list(argv), env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def todo_cli(args: Sequence[str], env: dict[str, str]) -> str:
    return run_checked([str(BIN / "todo-service"), *args], env, 300)


# ---- the services under test ----


@contextlib.contextmanager
def running_service(contender: str, env: dict[str, str], logs: Path) -> Iterator[tuple[int, int]]:
    """Start a contender's server; yield (pid, port); stop it (SIGTERM, then wait)."""
    port = free_port()
    with (logs / f"{contender}.log").open("ab") as output:
        process = subprocess.Popen(
            service_argv(contender, port),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C on the harness must not hit it mid-run
        )
        try:
            wait_for_http(f"http://{LOOPBACK}:{port}/", process)
            yield process.pid, port
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def wait_for_http(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited at start-up ({process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {START_TIMEOUT_S} s")


# ---- load runs ----


def wrk_command(
    port: int,
    scenario: str,
    connections: int,
    duration_s: float,
    items: int,
    think_ms: float = 0,
    health_path: str = "/healthz",
    authorization: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.update(
        {
            "BENCH_SCENARIO": scenario,
            "BENCH_IDS": str(items),
            "BENCH_THINK_MS": f"{think_ms:g}",
            "BENCH_HEALTH_PATH": health_path,
        }
    )
    # In the environment, not on the command line: a token has no place in `ps`.
    env.pop("BENCH_AUTHORIZATION", None)
    if authorization is not None:
        env["BENCH_AUTHORIZATION"] = authorization
    argv = [
        "wrk",
        "--threads=1",  # one core's worth at most, leaving the other to the service
        f"--connections={connections}",
        f"--duration={max(1, round(duration_s))}s",
        "--timeout=10s",
        f"--script={WRK_SCRIPT}",
        f"http://{LOOPBACK}:{port}",
    ]
    return argv, env


def wrk(port: int, scenario: str, connections: int, duration_s: float, **kw: Any) -> dict[str, Any]:
    argv, env = wrk_command(port, scenario, connections, duration_s, **kw)
    return bench_json(run_checked(argv, env, duration_s + RUN_GRACE_S))


def measured_wrk(
    opts: Options,
    port: int,
    scenario: str,
    connections: int,
    watch: dict[str, int],
    logs: Path,
    profile_key: str,
    **kw: Any,
) -> tuple[dict[str, Any], Watched]:
    """One wrk run of EDGE_S + duration + EDGE_S; CPU and instructions over the middle only.

    Every connection always has a request in flight, and a request's work is spread over its
    whole latency (up to seconds at 128 connections on a crowded machine). A window that
    started with the load would hold the work of the requests still in flight at its end but
    not the matching work from before its start; a window in the steady middle holds both.
    """
    total_s = opts.duration_s + 2 * EDGE_S
    argv, env = wrk_command(port, scenario, connections, total_s, **kw)
    with subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            time.sleep(EDGE_S)
            profile = maybe_profile(opts, profile_key, watch["service"], logs)
            with Watched(watch, opts.perf_window(), logs) as watched:
                time.sleep(opts.duration_s)
            output, errors = process.communicate(timeout=total_s + RUN_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{errors[-3000:]}")
    result = bench_json(output)
    # Requests completed in the window, at the run's steady rate.
    result["window_requests"] = (
        result["requests"] / (result["duration_us"] / 1e6) * (watched.elapsed_s)
    )
    if profile is not None:
        profile.wait(RUN_GRACE_S)
        raw = opts.out / f"profile-{profile_key.replace(':', '-')}.raw"
        if raw.exists():
            raw.with_suffix(".txt").write_text(profiles.summarize(raw))
    return result, watched


def perf_works() -> bool:
    """Whether `perf stat` can count this machine's instructions (root, or a low paranoia)."""
    if shutil.which("perf") is None:
        return False
    done = subprocess.run(
        ["perf", "stat", "-x,", "-e", "instructions", "--", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and done.stderr.split(",")[0].strip().isdigit()


class InstructionCounter:
    """`perf stat -e instructions` on some processes for a fixed time: CPU work that, unlike
    CPU seconds, does not swell when other processes crowd the cores."""

    def __init__(self, pids: Sequence[int], duration_s: float, scratch: Path) -> None:
        self._output = scratch / f"perf-{pids[0]}-{time.monotonic_ns()}.csv"
        self._process = subprocess.Popen(
            [
                "perf",
                "stat",
                "-x,",
                "-e",
                "instructions",
                "-o",
                str(self._output),
                "-p",
                ",".join(map(str, pids)),
                "--",
                "sleep",
                f"{duration_s:g}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def result(self) -> int | None:
        try:
            self._process.wait(RUN_GRACE_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            return None
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in self._output.read_text().splitlines():
                if ",instructions" in line:
                    return int(line.split(",")[0])
        return None


@dataclasses.dataclass
class Watched:
    """CPU seconds (and instructions, with perf) of the watched processes during one window."""

    pids: dict[str, int]
    count_instructions_s: float | None = None  # the window's length, to count instructions
    scratch: Path = Path(tempfile.gettempdir())

    def __enter__(self) -> Watched:
        self.started = {name: procstats.cpu_seconds(pid) for name, pid in self.pids.items()}
        self.counter = None
        if self.count_instructions_s and "service" in self.pids:
            tree = [p.pid for p in procstats.tree(self.pids["service"])]
            self.counter = InstructionCounter(tree, self.count_instructions_s, self.scratch)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed_s = time.monotonic() - self.t0
        self.cpu_s = {
            name: procstats.cpu_seconds(pid) - self.started[name] for name, pid in self.pids.items()
        }
        self.instructions = self.counter.result() if self.counter else None


def row(
    mode: str,
    contender: str,
    scenario: str,
    connections: int,
    load: str,
    result: dict[str, Any],
    cpu_s: float,
    peak_rss: int,
    others_cpu: dict[str, float],
    instructions: int | None = None,
) -> dict[str, Any]:
    seconds = result["duration_us"] / 1e6
    requests = result["requests"]
    # CPU and instructions were counted over a window: divide by the requests done in it.
    done = result.get("window_requests", requests)
    latency = result["latency_us"]
    return {
        "mode": mode,
        "contender": contender,
        "scenario": scenario,
        "connections": connections,
        "load": load,
        "requests": requests,
        "seconds": round(seconds, 3),
        "rps": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": round(latency["p50"] / 1000, 2),
        "p95_ms": round(latency["p95"] / 1000, 2),
        "p99_ms": round(latency["p99"] / 1000, 2),
        "errors": sum(result["errors"].values()),
        "cpu_s": round(cpu_s, 3),
        # CPU seconds per 1,000 requests = CPU milliseconds per request.
        "cpu_s_per_1k": round(cpu_s / done * 1000, 3) if done else None,
        # Instructions per request (perf), in millions: the CPU cost that crowding cannot swell.
        "minstr_per_req": round(instructions / done / 1e6, 3) if instructions and done else None,
        "peak_rss_mb": round(peak_rss / 2**20, 1),
        "window_requests": round(done, 1),
        **{f"{name}_cpu_s": round(value, 3) for name, value in others_cpu.items()},
    }


def http_runs(
    opts: Options,
    mode: str,
    contender: str,
    pid: int,
    port: int,
    others: dict[str, int],
    logs: Path,
    authorization: str | None = None,
) -> list[dict[str, Any]]:
    """Every scenario and connection count against one running contender. `authorization`:
    the Authorization header every request carries (the cognito contenders' bearer token)."""
    rows = []
    # The baselines' health check is their GET /; ours is /healthz (GET / says hello too).
    health = "/healthz" if contender.startswith("service") else "/"
    load: dict[str, Any] = {
        "items": opts.items,
        "health_path": health,
        "authorization": authorization,
    }
    for scenario in opts.scenarios:
        for connections in opts.connections:
            if scenario == "health" and connections != HEALTH_CONNECTIONS:
                continue
            wrk(port, scenario, connections, opts.warmup_s, **load)
            result, watched = measured_wrk(
                opts,
                port,
                scenario,
                connections,
                {"service": pid, **others},
                logs,
                f"{contender}:{mode}:{scenario}:{connections}",
                **load,
            )
            rows.append(
                row(
                    mode,
                    contender,
                    scenario,
                    connections,
                    "peak",
                    result,
                    watched.cpu_s.pop("service"),
                    procstats.peak_rss_bytes(pid),
                    watched.cpu_s,
                    watched.instructions,
                )
            )
            log(summary(rows[-1]))
            if opts.paced and scenario == "get" and connections == max(opts.connections):
                unloaded = next(
                    (r["p50_ms"] for r in rows if r["scenario"] == "get" and r["connections"] == 1),
                    0.0,
                )
                rows.append(
                    paced_run(
                        opts, mode, contender, pid, port, others, rows[-1], unloaded, logs, load
                    )
                )
                log(summary(rows[-1]))
    return rows


def paced_run(
    opts: Options,
    mode: str,
    contender: str,
    pid: int,
    port: int,
    others: dict[str, int],
    peak: dict[str, Any],
    unloaded_ms: float,
    logs: Path,
    load: dict[str, Any],
) -> dict[str, Any]:
    """The same load at 70% of the peak rate: each connection pauses between requests.

    A connection's cycle is its latency plus its pause. The pause is first sized with the
    unloaded latency (the 1-connection p50, when that run was made); if the rate reached is
    off by more than PACED_TOLERANCE, the pause is rescaled once and the run repeated.
    """
    connections = peak["connections"]
    target_rps = PACED_FRACTION * peak["rps"]
    cycle_ms = connections / target_rps * 1000
    think_ms = max(1.0, cycle_ms - unloaded_ms)
    for attempt in range(2):
        result, watched = measured_wrk(
            opts,
            port,
            "get",
            connections,
            {"service": pid, **others},
            logs,
            "",
            think_ms=think_ms,
            **load,
        )
        paced = row(
            mode,
            contender,
            "get",
            connections,
            "70%",
            result,
            watched.cpu_s.pop("service"),
            procstats.peak_rss_bytes(pid),
            watched.cpu_s,
            watched.instructions,
        )
        fraction = paced["rps"] / peak["rps"] if peak["rps"] else PACED_FRACTION
        paced["fraction_of_peak"] = round(fraction, 2)
        if attempt or abs(fraction - PACED_FRACTION) <= PACED_TOLERANCE or not paced["rps"]:
            break
        latency_ms = max(0.0, connections / paced["rps"] * 1000 - think_ms)
        think_ms = max(1.0, cycle_ms - latency_ms)
    return paced


def floor_runs(
    opts: Options, mode: str, env: dict[str, str], others: dict[str, int], logs: Path
) -> list[dict[str, Any]]:
    rows = []
    for scenario in opts.scenarios:
        if scenario == "health":
            continue  # no HTTP, nothing to price
        for connections in opts.connections:
            argv = [
                sys.executable,
                "-m",
                "bench.direct",
                f"--scenario={scenario}",
                f"--concurrency={connections}",
                f"--duration={opts.duration_s}",
                f"--warmup={opts.warmup_s}",
                f"--ids={opts.items}",
            ]
            result, watched = floor_run(opts, argv, env, others, logs)
            rows.append(
                row(
                    mode,
                    "floor",
                    scenario,
                    connections,
                    "peak",
                    result,
                    result["cpu_s"],
                    result["peak_rss_bytes"],
                    watched.cpu_s,
                    watched.instructions,
                )
            )
            log(summary(rows[-1]))
    return rows


def floor_run(
    opts: Options, argv: list[str], env: dict[str, str], others: dict[str, int], logs: Path
) -> tuple[dict[str, Any], Watched]:
    """Run bench.direct; watch it (and the backend) from the moment it starts measuring."""
    timeout = time.monotonic() + opts.duration_s + opts.warmup_s + START_TIMEOUT_S + RUN_GRACE_S
    with subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        try:
            for line in process.stdout:
                if line.startswith("BENCH-MEASURING"):
                    break
            with Watched({"service": process.pid, **others}, opts.perf_window(), logs) as watched:
                output, errors = process.communicate(timeout=max(1.0, timeout - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    if process.returncode != 0:
        raise RuntimeError(f"bench.direct failed ({process.returncode}):\n{errors[-3000:]}")
    watched.cpu_s.pop("service")  # the floor reports its own, over its measured window only
    return bench_json(output), watched


def maybe_profile(opts: Options, key: str, pid: int, logs: Path) -> subprocess.Popen[bytes] | None:
    """py-spy the service (and its workers) during the one run named by --profile."""
    if opts.profile != key:
        return None
    target = opts.out / f"profile-{key.replace(':', '-')}.raw"
    log(f"profiling {key} into {target} (and its .txt summary)")
    return subprocess.Popen(
        [
            str(BIN / "py-spy"),
            "record",
            "--subprocesses",
            "--nonblocking",
            "--format=raw",
            f"--duration={max(1, round(opts.duration_s))}",
            f"--pid={pid}",
            f"--output={target}",
        ],
        stdout=(logs / "py-spy.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


def summary(r: dict[str, Any]) -> str:
    return (
        f"{r['mode']:7} {r['contender']:10} {r['scenario']:6} c={r['connections']:<3} "
        f"{r['load']:4} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:7.2f} p99 {r['p99_ms']:7.2f} ms"
        f"  cpu {r['cpu_s_per_1k'] or 0:6.3f} s/1k  {r['minstr_per_req'] or 0:5.2f} Minstr/req"
        f"  err {r['errors']}  rss {r['peak_rss_mb']} MB"
    )


# ---- tables ----


def prepare_table(env: dict[str, str], table: str, items: int, scratch: Path) -> None:
    seed_file = write_seed_file(scratch / f"{table}.json", table, items)
    todo_cli(["create-table"], env)
    todo_cli(["seed", str(seed_file)], env)


def prepare_owned_table(
    env: dict[str, str], table: str, items: int, owner: str, scratch: Path
) -> None:
    """The same todos as prepare_table's, each owned by `owner`: what a TODO_AUTH=cognito
    service shows its user (seeded todos belong to nobody). `todo-service seed` refuses an
    `owner`, so boto3's batch_writer loads them (bench/seedbench.py)."""
    seed_file = write_seed_file(scratch / f"{table}.json", table, items, owner=owner)
    todo_cli(["create-table"], env)
    argv = [sys.executable, "-m", "bench.seedbench", f"--file={seed_file}", f"--table={table}"]
    run_checked(argv, env, 600)


def delete_table(env: dict[str, str], table: str) -> None:
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    client.delete_table(TableName=table)


def seed_runs(opts: Options, mode: str, endpoint: str, scratch: Path) -> list[dict[str, Any]]:
    """`todo-service seed` vs boto3's batch_writer, each on a fresh table, same 10,000 items."""
    results = []
    table = f"SeedOurs-{mode}"
    env = base_env(endpoint, table)
    seed_file = write_seed_file(scratch / f"{table}.json", table, opts.items)
    todo_cli(["create-table"], env)
    output = todo_cli(["seed", str(seed_file)], env)
    # As the command reports it: validating the whole file, then writing it.
    match = re.search(r"deleted in ([0-9.]+) s", output)
    if match is None:
        raise RuntimeError(f"unexpected output from todo-service seed: {output[-500:]}")
    ours_s = float(match.group(1))
    delete_table(env, table)
    results.append(
        {"mode": mode, "loader": "todo-service seed", "items": opts.items, "seconds": ours_s}
    )
    table = f"SeedBoto-{mode}"
    env = base_env(endpoint, table)
    todo_cli(["create-table"], env)
    argv = [sys.executable, "-m", "bench.seedbench", f"--file={seed_file}", f"--table={table}"]
    # Only the writing is timed here: a head start for batch_writer.
    boto = bench_json(run_checked(argv, env, 600))
    delete_table(env, table)
    results.append(
        {
            "mode": mode,
            "loader": "boto3 batch_writer",
            "items": opts.items,
            "seconds": boto["seconds"],
        }
    )
    for result in results:
        result["items_per_s"] = round(result["items"] / result["seconds"], 1)
        result["seconds"] = round(result["seconds"], 3)
        log(f"{mode:7} seed {result['loader']:20} {result['items_per_s']:9.0f} items/s")
    return results


# ---- the whole run ----


def check_tools() -> None:
    missing = [tool for tool in ("wrk", "node") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"bench: missing {', '.join(missing)} (apt-get install wrk nodejs)")
    if not (ROOT / "node_modules" / "dynalite").is_dir():
        raise SystemExit("bench: dynalite is missing: run `npm ci` at the repository root")


@contextlib.contextmanager
def proxy(delay_ms: float, routes: Sequence[tuple[int, int]], logs: Path) -> Iterator[int]:
    """The delaying proxy in its own process; yield its pid."""
    argv = [sys.executable, "-m", "bench.proxy", f"--delay-ms={delay_ms:g}"]
    argv += [f"--route={listen}:{LOOPBACK}:{target}" for listen, target in routes]
    with (logs / "proxy.log").open("ab") as output:
        process = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=output, start_new_session=True
        )
        try:
            assert process.stdout is not None
            if b"proxy ready" not in process.stdout.readline():
                raise RuntimeError("the proxy did not start; see proxy.log")
            yield process.pid
        finally:
            process.terminate()
            process.wait(STOP_TIMEOUT_S)


def run(opts: Options) -> dict[str, Any]:
    from . import report

    check_tools()
    opts.perf = opts.perf and perf_works()
    if not opts.perf:
        log("perf cannot count instructions here: CPU seconds only")
    opts.out.mkdir(parents=True, exist_ok=True)
    machine = report.machine_info()
    log(f"machine: {machine['cpu']} x{machine['cores']}, load average {machine['loadavg']}")
    rows: list[dict[str, Any]] = []
    seeds: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        logs = scratch
        node = shutil.which("node")
        assert node is not None
        dynalite = stack.enter_context(
            LocalServer(
                lambda port: [node, str(ROOT / "scripts/dynalite-server.js"), str(port)], "dynalite"
            )
        )
        dynalite_pid = dynalite_process_pid(dynalite)
        echo = EchoServer()
        stack.callback(echo.close)
        dynamo_via_proxy, echo_via_proxy = free_port(), free_port()
        proxy_pid = stack.enter_context(
            proxy(
                opts.delay_ms,
                [(dynamo_via_proxy, dynalite.port), (echo_via_proxy, echo.port)],
                logs,
            )
        )
        rtt = added_rtt_ms(measure_rtt(echo.port), measure_rtt(echo_via_proxy))
        log(
            f"proxy adds {rtt['added_p50_ms']:.2f} ms per round trip at p50 "
            f"(p95 {rtt['added_p95_ms']:.2f} ms); asked for {2 * opts.delay_ms:g} ms"
        )
        endpoints = {
            "direct": dynalite.endpoint_url,
            "delayed": f"http://{LOOPBACK}:{dynamo_via_proxy}",
        }
        user: BenchUser | None = None
        if any(map(is_cognito, opts.contenders)):
            # moto for Cognito alone: DynamoDB stays dynalite, behind the same proxy.
            user = stack.enter_context(bench_user())
            log(f"cognito: user pool {user.pool.user_pool_id}, bench user sub {user.sub}")
        for mode in opts.modes:
            endpoint = endpoints[mode]
            others = {"dynalite": dynalite_pid}
            if mode == "delayed":
                others["proxy"] = proxy_pid
            if opts.seed_bench:
                seeds += seed_runs(opts, mode, endpoint, scratch)
            # One table per mode, seeded once: every contender meets the same 10,000 todos
            # (plus those the create runs add; list and get come first in each contender).
            table = f"Bench-{mode}"
            env = base_env(endpoint, table)
            log(f"{mode}: preparing {table} ({opts.items} todos)")
            prepare_table(env, table, opts.items, scratch)
            owned_env = None
            if user is not None:
                owned = f"{table}-owned"
                owned_env = {**base_env(endpoint, owned), **user.service_env()}
                log(f"{mode}: preparing {owned} ({opts.items} todos of the bench user)")
                # Loaded over plain loopback (batch_writer is sequential): same table, sooner.
                loading = base_env(endpoints["direct"], owned)
                prepare_owned_table(loading, owned, opts.items, user.sub, scratch)
            for contender in opts.contenders:
                if contender == "floor":
                    rows += floor_runs(opts, mode, env, others, logs)
                elif is_cognito(contender):
                    assert user is not None
                    assert owned_env is not None
                    with running_service(contender, owned_env, logs) as (pid, port):
                        rows += http_runs(
                            opts, mode, contender, pid, port, others, logs, user.authorization()
                        )
                else:
                    with running_service(contender, env, logs) as (pid, port):
                        rows += http_runs(opts, mode, contender, pid, port, others, logs)
            delete_table(env, table)
            if owned_env is not None:
                delete_table(owned_env, owned_env["TODO_TABLE_NAME"])
        rtt_after = added_rtt_ms(measure_rtt(echo.port), measure_rtt(echo_via_proxy))
    results = {
        "machine": machine,
        "options": {
            "duration_s": opts.duration_s,
            "warmup_s": opts.warmup_s,
            "connections": list(opts.connections),
            "scenarios": list(opts.scenarios),
            "modes": list(opts.modes),
            "delay_ms_each_way": opts.delay_ms,
            "items": opts.items,
        },
        "proxy_rtt": {"before": rtt, "after": rtt_after},
        "contenders": {name: CONTENDERS[name] for name in opts.contenders},
        "rows": rows,
        "seed": seeds,
    }
    report.write(results, opts.out)
    return results


def dynalite_process_pid(server: LocalServer) -> int:
    process = server._process  # the LocalServer owns it; we only read its CPU time
    assert process is not None
    return process.pid
