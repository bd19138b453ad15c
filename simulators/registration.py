"""Register generated sensors as simulated before they publish (``--sensors N``).

A simulator run beside a demo must not change the demo's figures: the sensors it makes up
are written to the ``sensor_flags`` measurement as ``simulated`` (the API leaves them out
of every council figure unless asked, README "Simulated and retired sensors"), before the
first reading is published. They go where the API keeps its own records
(``SMARTPLACE_INFLUX_API_DATABASE``, unset: the readings' database; docs/storage.md), so
with split databases the simulator's account needs to write that one. The points carry a
fixed timestamp, so registering the same sensors again overwrites them instead of piling
up (that database has no retention).
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from sensors.lineprotocol import point_line
from sensors.registry import Sensor
from sensors.settings import Settings
from sensors.storage import Measurement, quote_identifier
from simulators.errors import RegistrationError

REGISTERED_AT_MS = 0  # fixed: a second registration overwrites the first
REGISTERED_BY = "smartplace simulate"
TIMEOUT_S = 10.0


def simulated_lines(sensors: Sequence[Sensor]) -> list[str]:
    """One ``sensor_flags`` point per sensor: simulated, with its site and domain."""
    lines = []
    for sensor in sensors:
        line = point_line(Measurement.SENSOR_FLAGS, {"sensor": sensor.id}, {
            "simulated": 1, "site": sensor.site, "domain": sensor.domain.value,
            "by": REGISTERED_BY}, REGISTERED_AT_MS)
        assert line is not None  # simulated is always there
        lines.append(line)
    return lines


def register_simulated(settings: Settings, sensors: Sequence[Sensor]) -> None:
    """Write the flags to the API's database (creating a missing 1.x database, as the
    ingestor does).

    Raises:
        RegistrationError: InfluxDB is unreachable or refused the write; the message names
            the settings to check and never holds a credential.
    """
    headers, auth = settings.influx_auth()
    body = "\n".join(simulated_lines(sensors)).encode()
    database = settings.api_database()
    params = {**auth, "db": database, "precision": "ms"}
    try:
        with httpx.Client(base_url=settings.influx_url, headers=headers, timeout=TIMEOUT_S,
                          verify=settings.influx_verify()) as client:
            response = client.post("/write", params=params, content=body)
            if response.status_code == 404:
                client.post("/query", params=auth, data={
                    "q": f"CREATE DATABASE {quote_identifier(database)}"})
                response = client.post("/write", params=params, content=body)
    except httpx.HTTPError as exc:
        raise RegistrationError(
            f"InfluxDB at {settings.influx_url} is unreachable ({type(exc).__name__}): check "
            "SMARTPLACE_INFLUX_URL") from None
    if response.status_code != 204:
        hint = settings.influx_credential_settings() if response.status_code in (401, 403) \
            else "SMARTPLACE_INFLUX_URL and SMARTPLACE_INFLUX_API_DATABASE (or _DATABASE)"
        raise RegistrationError(
            f"InfluxDB refused the registration (HTTP {response.status_code}): check {hint}")
