"""``python -m bench``: run the benchmarks and print the figures."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from bench import api_latency, broker_persistence, dashboard_latency, drain
from bench.consumers import AckHandoff, CountOnly, Smartplace
from bench.drain import Consumer

BASELINE = CountOnly().name


def _contenders(args: argparse.Namespace) -> list[Callable[[], Consumer]]:
    made: list[Callable[[], Consumer]] = [CountOnly]
    if args.stages:
        made += [lambda: AckHandoff("each"), lambda: AckHandoff("batch")]
    made.append(Smartplace)
    made += [lambda d=d: Smartplace(code_dir=d) for d in args.compare_with]
    made += [lambda n=n: Smartplace(workers=n) for n in args.workers if n > 1]
    return made


def _ingest(args: argparse.Namespace) -> None:
    ratios: dict[str, list[float]] = {}
    for trial in range(1, args.repeat + 1):
        consumers = [make() for make in _contenders(args)]
        results = drain.run(consumers, args.messages, args.sensors)
        print(f"\ntrial {trial} of {args.repeat}, {args.messages:,} messages, "
              f"{args.sensors:,} sensors:\n{drain.table(results, BASELINE)}\n", flush=True)
        base = next(one.rate for one in results if one.name == BASELINE)
        for one in results:
            ratios.setdefault(one.name, []).append(one.rate / base)
    print(f"median ratio to the count-only paho subscriber over {args.repeat} trial(s):")
    for name, found in ratios.items():
        found.sort()
        print(f"  {found[len(found) // 2]:.2f}  {name}")


def _api(args: argparse.Namespace) -> None:
    result = api_latency.run(days=args.api_days, sensors=args.api_sensors,
                             requests=args.api_requests, warmups=args.api_warmups)
    print(result.summary())


def _dashboard(args: argparse.Namespace) -> None:
    print(dashboard_latency.run(samples=args.dashboard_samples).summary())


def main() -> None:
    parser = argparse.ArgumentParser(description="smartplace benchmarks")
    parser.add_argument("--only", choices=("ingest", "broker", "api", "dashboard", "all"),
                        default="all",
                        help="which benchmark to run (default: all)")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--sensors", type=int, default=300,
                        help="distinct sensors the drain's messages come from")
    parser.add_argument("--workers", type=int, nargs="*", default=[2],
                        help="also drain with 'smartplace ingest --workers N' for each N")
    parser.add_argument("--stages", action="store_true",
                        help="also drain with the manual-ack hand-off alone (before/after)")
    parser.add_argument("--compare-with", type=Path, metavar="DIR", action="append",
                        default=[],
                        help="also drain with the smartplace of another checkout (e.g. a "
                        "git worktree of an older commit): a before/after in one run")
    parser.add_argument("--repeat", type=int, default=1, help="trials; median ratios shown")
    parser.add_argument("--api-days", type=int, default=30, help="days of 1-minute data")
    parser.add_argument("--api-sensors", type=int, default=300, help="sensors (a third per domain)")
    parser.add_argument("--api-requests", type=int, default=20,
                        help="timed requests per endpoint and source")
    parser.add_argument("--api-warmups", type=int, default=2, help="untimed requests first")
    parser.add_argument("--dashboard-samples", type=int, default=20,
                        help="publish-to-screen samples in headless Chromium")
    args = parser.parse_args()

    if args.only in ("ingest", "all"):
        _ingest(args)
    if args.only in ("broker", "all"):
        print(broker_persistence.run(args.messages, args.repeat))
    if args.only in ("dashboard", "all"):
        _dashboard(args)
    if args.only in ("api", "all"):
        _api(args)


if __name__ == "__main__":
    main()
