"""Air quality: the UK Daily Air Quality Index.

- :mod:`api.air.daqi`: bands, breakpoints and window arithmetic (pure)
- :mod:`api.air.queries`: the hourly and 15-minute aggregates from InfluxDB
- :mod:`api.air.answers`: the ``/air-quality`` answers

Method: docs/methodology.md, "Air quality: the Daily Air Quality Index".
"""
