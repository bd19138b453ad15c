"""The live dashboard stream (``GET /api/v1/live``, docs/live.md).

- :mod:`api.live.sse`: event framing and time strings (the wire format)
- :mod:`api.live.state`: queries and mapping of the panels (now, series, sensors, ...)
- :mod:`api.live.alerts`: alerts derived from the data, and the cleared-alert memory
- :mod:`api.live.hub`: the one poller per app
- :mod:`api.live.subscription`: events and the per-client queues
- :mod:`api.live.sensors_feed`: the ``sensors`` event as a full list, then changes
"""
