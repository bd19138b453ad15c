"""``python -m bench``: run the benchmarks and print the figures."""

from __future__ import annotations

import argparse

from bench import api_latency, dashboard_latency, ingest_throughput


def _ingest(args: argparse.Namespace) -> None:
    drains = {"native": [False], "mixed": [True], "both": [False, True]}[args.drain]
    medians: dict[bool, float] = {}
    for mixed in drains:
        name = "mixed (half TTN/Shelly)" if mixed else "native"
        results = []
        for run in range(1, args.repeat + 1):
            result = ingest_throughput.run(args.messages, mixed=mixed)
            results.append(result)
            print(
                f"{name} run {run}: baseline (paho, count only) {result.baseline_rate:,.0f} "
                f"msg/s | ingest end to end (validated, stored, acknowledged) "
                f"{result.ingest_rate:,.0f} msg/s | ratio {result.ratio:.2f}"
            )
        ratios = sorted(r.ratio for r in results)
        medians[mixed] = ratios[len(ratios) // 2]
        print(f"{name} ingest/baseline ratio (median of {len(ratios)}): {medians[mixed]:.2f}"
              + (" (target >= 0.50)" if not mixed else ""))
    if len(medians) == 2:
        change = medians[True] / medians[False] - 1
        print(f"mixed ratio against native ratio: {change:+.0%} (target: within 15 %)")


def _api(args: argparse.Namespace) -> None:
    result = api_latency.run(days=args.api_days, sensors=args.api_sensors,
                             requests=args.api_requests, warmups=args.api_warmups)
    print(result.summary())


def _dashboard(args: argparse.Namespace) -> None:
    print(dashboard_latency.run(samples=args.dashboard_samples).summary())


def main() -> None:
    parser = argparse.ArgumentParser(description="smartplace benchmarks")
    parser.add_argument("--only", choices=("ingest", "api", "dashboard", "all"), default="all",
                        help="which benchmark to run (default: all)")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--drain", choices=("native", "mixed", "both"), default="both",
                        help="ingest: the native drain, the mixed-format one, or both")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the median ratio is shown")
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
    if args.only in ("dashboard", "all"):
        _dashboard(args)
    if args.only in ("api", "all"):
        _api(args)


if __name__ == "__main__":
    main()
