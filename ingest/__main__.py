"""``python -m ingest``: the same as ``smartplace ingest``."""

from __future__ import annotations

import sys

from ingest.service import IngestService
from sensors.settings import Settings
from smartplace.logs import configure_logging


def main() -> int:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return IngestService(settings).run()


if __name__ == "__main__":
    sys.exit(main())
