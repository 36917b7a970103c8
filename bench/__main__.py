"""`python -m bench` (or ./bench/run): the whole benchmark, bounded, on loopback."""

from __future__ import annotations

import argparse
from pathlib import Path

from .harness import CONNECTIONS, CONTENDERS, SCENARIOS, Options, run


def _list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def main() -> None:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument(
        "--duration",
        type=float,
        default=defaults.duration_s,
        help="measured seconds per run (%(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=defaults.warmup_s,
        help="warm-up seconds before each run (%(default)s)",
    )
    parser.add_argument(
        "--connections",
        type=_list,
        default=list(map(str, CONNECTIONS)),
        help="comma-separated connection counts (1,16,128)",
    )
    parser.add_argument(
        "--scenarios",
        type=_list,
        default=list(SCENARIOS),
        help=f"comma-separated, from {','.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--contenders",
        type=_list,
        default=list(CONTENDERS),
        help=f"comma-separated, from {','.join(CONTENDERS)}",
    )
    parser.add_argument(
        "--modes",
        type=_list,
        default=list(defaults.modes),
        help="direct (plain loopback) and/or delayed (through the proxy)",
    )
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=defaults.delay_ms,
        help="latency the proxy adds each way (%(default)s)",
    )
    parser.add_argument(
        "--items", type=int, default=defaults.items, help="todos per table (%(default)s)"
    )
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
