"""`python -m bench` (or ./bench/run): the whole benchmark, bounded, on loopback."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from .harness import CONNECTIONS, CONTENDERS, SCENARIOS, Options, run


def _list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _joined(values: object) -> str:
    return ",".join(map(str, values)) if isinstance(values, list | tuple) else str(values)


def main() -> None:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    # Each option's default comes from Options and its help shows it: stated once, never copied.
    options: list[tuple[str, object, Callable[[str], object], str]] = [
        ("--duration", defaults.duration_s, float, "measured seconds per run"),
        ("--warmup", defaults.warmup_s, float, "warm-up seconds before each run"),
        (
            "--connections",
            [str(c) for c in CONNECTIONS],
            _list,
            "comma-separated connection counts",
        ),
        ("--scenarios", list(SCENARIOS), _list, "comma-separated scenarios"),
        ("--contenders", list(CONTENDERS), _list, "comma-separated contenders"),
        ("--modes", list(defaults.modes), _list, "direct (plain loopback) and/or delayed (proxy)"),
        ("--delay-ms", defaults.delay_ms, float, "latency the proxy adds each way"),
        ("--items", defaults.items, int, "todos per table"),
    ]
    for flag, default, kind, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} ({_joined(default)})")
    parser.add_argument("--no-seed-bench", action="store_true", help="skip the seed loaders")
    parser.add_argument("--no-paced", action="store_true", help="skip the 70%%-load runs")
    parser.add_argument(
        "--out",
        type=Path,
        default=defaults.out,
        help="results directory (bench/results; bench/README.md is updated only for that one)",
    )
    parser.add_argument(
        "--profile",
        metavar="CONTENDER:MODE:SCENARIO:CONNS",
        help="py-spy record the service during that one run (an SVG in --out)",
    )
    args = parser.parse_args()
    unknown = (set(args.scenarios) - set(SCENARIOS)) | (set(args.contenders) - set(CONTENDERS))
    unknown |= set(args.modes) - {"direct", "delayed"}
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    run(
        Options(
            duration_s=args.duration,
            warmup_s=args.warmup,
            connections=[int(c) for c in args.connections],
            scenarios=args.scenarios,
            contenders=args.contenders,
            modes=args.modes,
            delay_ms=args.delay_ms,
            items=args.items,
            seed_bench=not args.no_seed_bench,
            paced=not args.no_paced,
            out=args.out,
            profile=args.profile,
        )
    )


if __name__ == "__main__":
    main()
