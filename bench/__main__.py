"""``python -m bench``: run the benchmarks and print the figures."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench import (
    api_latency,
    api_load,
    broker_persistence,
    dashboard_latency,
    drain,
    format_decode,
    live_rate,
    rollup_cost,
    scale,
)
from bench.consumers import AckHandoff, CountOnly, Smartplace
from bench.drain import Consumer
from bench.nodered_peer import NodeRed

BASELINE = CountOnly().name
DRAINS = {"native": ("native",), "mixed": ("mixed",), "both": ("native", "mixed")}


def _contenders(args: argparse.Namespace) -> list[Callable[[], Consumer]]:
    made: list[Callable[[], Consumer]] = [CountOnly]
    if args.stages:
        made += [lambda: AckHandoff("each"), lambda: AckHandoff("batch")]
    if not args.skip_nodered:
        made.append(NodeRed)
    made.append(Smartplace)
    made += [partial(Smartplace, code_dir=d) for d in args.compare_with]
    made += [partial(Smartplace, workers=n) for n in args.workers if n > 1]
    return made


def _ingest(args: argparse.Namespace) -> None:
    medians: dict[str, dict[str, float]] = {}
    for drain_kind in DRAINS[args.drain]:
        mixed = drain_kind == "mixed"
        ratios: dict[str, list[float]] = {}
        for trial in range(1, args.repeat + 1):
            # The mixed drain has cumulative meters, which need a single ingestor.
            consumers = [make() for make in ([CountOnly, Smartplace] if mixed
                                             else _contenders(args))]
            results = drain.run(consumers, args.messages, args.sensors, mixed=mixed)
            print(f"\n{drain_kind} drain, trial {trial} of {args.repeat}, {args.messages:,} "
                  f"messages, {args.sensors:,} sensors:\n{drain.table(results, BASELINE)}\n",
                  flush=True)
            base = next(one.rate for one in results if one.name == BASELINE)
            for one in results:
                ratios.setdefault(one.name, []).append(one.rate / base)
        print(f"{drain_kind} drain: median ratio to the count-only paho subscriber over "
              f"{args.repeat} trial(s):")
        for name, found in ratios.items():
            found.sort()
            medians.setdefault(drain_kind, {})[name] = found[len(found) // 2]
            print(f"  {found[len(found) // 2]:.2f}  {name}")
    if len(medians) == 2:
        ingest = next(name for name in medians["mixed"] if name != BASELINE)
        change = medians["mixed"][ingest] / medians["native"][ingest] - 1
        print(f"mixed-format ratio against the native ratio: {change:+.0%} "
              "(target: within 15 %)")


def _api(args: argparse.Namespace) -> None:
    result = api_latency.run(days=args.api_days, sensors=args.api_sensors,
                             requests=args.api_requests, warmups=args.api_warmups)
    print(result.summary())


def _dashboard(args: argparse.Namespace) -> None:
    print(dashboard_latency.run(samples=args.dashboard_samples).summary())


def _live(args: argparse.Namespace) -> None:
    results = live_rate.run(args.live_rates, args.live_seconds, args.live_workers,
                            args.live_publishers)
    print(f"\nlive rate, {args.live_seconds:g} s per rate:\n{live_rate.table(results)}\n")


def _scale(args: argparse.Namespace) -> None:
    rows = scale.run(args.scale_sensors, args.messages)
    print(f"\nscale, {args.messages:,} messages per drain:\n{scale.table(rows)}\n")


def _formats(args: argparse.Namespace) -> None:
    repeats = max(args.repeat, 5)  # best of several: a micro-benchmark on a noisy machine
    rows = format_decode.run(args.format_count, repeats)
    print(f"\ndevice formats, decode only, {args.format_count:,} messages per kind, best of "
          f"{repeats}:\n{format_decode.table(rows)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description="smartplace benchmarks")
    parser.add_argument("--only", choices=("ingest", "broker", "api", "load", "dashboard",
                                           "live", "scale", "formats", "rollup", "all"),
                        default="all",
                        help="which benchmark to run (default: all)")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--drain", choices=tuple(DRAINS), default="both",
                        help="ingest: the native drain, the mixed-format one (half TTN and "
                        "Shelly, bench/mixed.py), or both")
    parser.add_argument("--sensors", type=int, default=300,
                        help="distinct sensors the drain's messages come from")
    parser.add_argument("--workers", type=int, nargs="*", default=[2],
                        help="also drain with 'smartplace ingest --workers N' for each N")
    parser.add_argument("--skip-nodered", action="store_true",
                        help="leave out the Node-RED peer (installed by 'make bench-peers')")
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
    parser.add_argument("--load-clients", type=int, default=50,
                        help="concurrent clients of the API load benchmark")
    parser.add_argument("--load-seconds", type=float, default=30.0,
                        help="seconds each server is under load")
    parser.add_argument("--dashboard-samples", type=int, default=20,
                        help="publish-to-screen samples in headless Chromium")
    parser.add_argument("--live-rates", type=float, nargs="+", default=[5000, 10000, 8000],
                        help="target publish rates (msg/s) of the live-rate benchmark")
    parser.add_argument("--live-seconds", type=float, default=30, help="publishing per rate")
    parser.add_argument("--live-workers", type=int, nargs="+", default=[1],
                        help="ingestor processes to run each rate with (1: one process; "
                        "N: 'smartplace ingest --workers N')")
    parser.add_argument("--live-publishers", type=int, default=1,
                        help="publisher processes sharing each rate")
    parser.add_argument("--format-count", type=int, default=5_000,
                        help="formats: messages per kind and repeat of the decode-only "
                        "micro-benchmark (bench/format_decode.py; best of --repeat, at least 5)")
    parser.add_argument("--scale-sensors", type=int, nargs="+", default=[300, 3000, 30000],
                        help="distinct sensor counts of the scale benchmark")
    parser.add_argument("--rollup-sensors", type=int, nargs="+", default=[3000, 30000],
                        help="sensor counts of the rollup-run benchmark (bench/rollup_cost.py)")
    args = parser.parse_args()

    if args.only in ("ingest", "all"):
        _ingest(args)
    if args.only in ("broker", "all"):
        print(broker_persistence.run(args.messages, args.repeat))
    if args.only in ("dashboard", "all"):
        _dashboard(args)
    if args.only in ("api", "all"):
        _api(args)
    if args.only in ("load", "all"):
        print(api_load.run(args.load_clients, args.load_seconds, args.api_sensors))
    if args.only in ("live", "all"):
        _live(args)
    if args.only in ("scale", "all"):
        _scale(args)
    if args.only in ("formats", "all"):
        _formats(args)
    if args.only in ("rollup", "all"):
        print(rollup_cost.run(args.rollup_sensors))


if __name__ == "__main__":
    main()
