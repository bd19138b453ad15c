"""The example report in docs/reports/: simulated readings, a throwaway InfluxDB, the report.

    python -m smartplace.example_report [--period 2025-11] [--out docs/reports]

starts a temporary ``influxd``, writes the simulator's seeded minute readings for every
registry sensor over the period and the one before it (so the comparison has data),
rolls them up, imports the sample DESNZ local-authority file, and writes the report as
PDF, HTML and CSV, and a PNG of the PDF's first page (``pdftoppm``, from poppler-utils,
when installed). The figures are simulated: the example shows the report, not Stockport.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx

from api.activity.rollup_job import backfill
from api.carbon.parts import PricingOptions
from api.influx import InfluxStore
from api.params import parse_period
from api.reports.report import ReportFormat, make_report
from sensors.factors import load_factors
from sensors.lineprotocol import reading_line
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.timestamps import NS_PER_MS
from sensors.topics import Topic
from sensors.version import smartplace_version
from simulators.profiles import generate_reading
from smartplace.servers import InfluxServer

SEED = 1
BATCH = 20_000


def _write(url: str, database: str, start_ms: int, end_ms: int) -> int:
    """The simulator's readings of every registry sensor in [start_ms, end_ms)."""
    registry = load_registry()
    written = 0
    with httpx.Client(base_url=url, timeout=60) as client:
        client.post("/query", data={"q": f'CREATE DATABASE "{database}"'}).raise_for_status()
        for sensor in registry.sensors:
            step = sensor.interval_s * 1000
            lines = []
            for k, ts in enumerate(range(start_ms + step, end_ms + 1, step)):
                reading = generate_reading(SEED, sensor, k, ts)
                lines.append(reading_line(Topic(sensor.domain, sensor.site, sensor.id),
                                          reading, sensor.link_km))
                if len(lines) >= BATCH:
                    written += _post(client, database, lines)
                    lines = []
            written += _post(client, database, lines)
    return written


def _post(client: httpx.Client, database: str, lines: list[str]) -> int:
    if lines:
        response = client.post("/write", params={"db": database, "precision": "ns"},
                               content="\n".join(lines).encode())
        response.raise_for_status()
    return len(lines)


async def _report(settings: Settings, period_text: str, out: Path, sample: Path | None
                  ) -> list[Path]:
    period = parse_period(period_text)
    previous = period.previous()
    store = InfluxStore(settings)
    try:
        await backfill(store, previous.window.start_ns // NS_PER_MS,
                       period.window.end_ns // NS_PER_MS, period.window.end_ns // NS_PER_MS,
                       limit_ms=None)
        if sample is not None:
            from api.reconciliation.inventory import parse_inventory, store_inventory
            await store_inventory(store, parse_inventory(sample.read_bytes()), "sample",
                                  sample.name, period.window.end_ns // NS_PER_MS)
        written = []
        outputs: tuple[ReportFormat, ...] = ("pdf", "html", "csv")
        for output in outputs:
            made = await make_report(store, load_factors(), load_registry(), settings, period,
                                     output, PricingOptions(), smartplace_version())
            path = out / f"example-report-{period.text}.{output}"
            path.write_bytes(made.content)
            written.append(path)
        return written
    finally:
        await store.aclose()


def main(argv: list[str] | None = None) -> int:
    """Build the example report; the paths written are printed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", default="2025-11")
    parser.add_argument("--out", type=Path, default=Path("docs/reports"))
    parser.add_argument("--sample", type=Path, default=None,
                        help="a DESNZ local-authority CSV to import as well")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep InfluxDB's files here and reuse them on the next run "
                        "(default: a temporary folder)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    period = parse_period(args.period)
    with tempfile.TemporaryDirectory(prefix="smartplace-example-") as folder:
        reuse = args.data_dir is not None and (args.data_dir / "influx-data").is_dir()
        server = InfluxServer(args.data_dir or Path(folder))
        server.start()
        try:
            settings = Settings(_env_file=None, influx_url=server.url,
                                influx_database="example", rollup_interval_s=0)
            if not reuse:
                count = _write(server.url, "example",
                               period.previous().window.start_ns // NS_PER_MS,
                               period.window.end_ns // NS_PER_MS)
                print(f"wrote {count:,} simulated readings")
            paths = asyncio.run(_report(settings, args.period, args.out, args.sample))
        finally:
            server.stop()
    pdf = paths[0]
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(pdf.with_suffix(""))], check=True)
        paths.append(pdf.with_suffix(".png"))
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
