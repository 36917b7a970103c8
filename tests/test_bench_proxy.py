"""The benchmark's delaying proxy adds the round trip it claims (bench/proxy.py).

The benchmark harness itself is not part of the test run; this checks the one helper whose
error would silently skew every added-latency result.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.proxy import TIMER_SLACK_S, EchoServer, added_rtt_ms, measure_rtt

from todo_service.local.harness import free_port

ROOT = Path(__file__).resolve().parents[1]
DELAY_MS = 5.0


def test_delaying_proxy_adds_twice_its_delay_to_a_round_trip() -> None:
    echo = EchoServer()
    port = free_port()
    proxy = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.proxy",
            f"--delay-ms={DELAY_MS}",
            f"--route={port}:127.0.0.1:{echo.port}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        assert proxy.stdout is not None
        assert b"proxy ready" in proxy.stdout.readline()
        direct, proxied = measure_rtt(echo.port), measure_rtt(port)
    finally:
        proxy.terminate()
        proxy.wait(10)
        proxy.stdout.close()
        echo.close()
    # Millisecond timers fire at most about 1 ms off their aim (the delay less the slack)...
    assert min(proxied) >= 2 * (DELAY_MS / 1000 - TIMER_SLACK_S - 0.001)
    # ...and the typical one is close to it (generous: the machine may be busy).
    added = added_rtt_ms(direct, proxied)["added_p50_ms"]
    assert 2 * DELAY_MS - 2 <= added <= 2 * DELAY_MS + 10
