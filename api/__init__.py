"""The smartplace HTTP API: carbon indicators and sensor status over InfluxDB.

Build it with :func:`api.main.create_app`; run it with :func:`api.server.serve`.
The API reads only InfluxDB (never MQTT) and imports only ``sensors`` from the project.
"""
