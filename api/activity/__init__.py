"""Activity: what the sensors measured, read from raw readings or from rollups.

- :mod:`api.activity.model`: the activity records every reader returns
- :mod:`api.activity.raw`: InfluxQL over the raw readings
- :mod:`api.activity.rollups`: rollup coverage and the reader that mixes rollups and raw
- :mod:`api.activity.received`: readings received per sensor (data completeness)
- :mod:`api.activity.rollup_job` and :mod:`api.activity.scheduler`: the rollup job

Method: docs/methodology.md, "Rollups".
"""
