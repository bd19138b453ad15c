"""The sensor network: last readings and status (reporting, late, silent) per sensor.

- :mod:`api.network.last_seen`: the latest reading of every sensor, from InfluxDB
- :mod:`api.network.last_seen_index`: that answer kept between requests (seed, refresh,
  re-seed), one per app
- :mod:`api.network.status`: the status rules (pure)
"""
