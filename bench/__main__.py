"""``python -m bench``: run the benchmarks and print the figures."""

from __future__ import annotations

import argparse

from bench import ingest_throughput


def main() -> None:
    parser = argparse.ArgumentParser(description="smartplace benchmarks")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs; the median ratio is shown")
    args = parser.parse_args()

    results = []
    for run in range(1, args.repeat + 1):
        result = ingest_throughput.run(args.messages)
        results.append(result)
        print(
            f"run {run}: baseline (paho, count only) {result.baseline_rate:,.0f} msg/s | "
            f"ingest end to end (validated, stored, acknowledged) {result.ingest_rate:,.0f} msg/s"
            f" | ratio {result.ratio:.2f}"
        )
    ratios = sorted(r.ratio for r in results)
    median = ratios[len(ratios) // 2]
    print(f"ingest/baseline ratio (median of {len(ratios)}): {median:.2f} (target >= 0.50)")


if __name__ == "__main__":
    main()
