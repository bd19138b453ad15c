"""Device formats (contract section 7): pure translators from a device's own message to
section 2 readings. No I/O.

- :mod:`sensors.formats.devices`: the devices file (``SMARTPLACE_DEVICES_FILE``), validated;
  :mod:`sensors.formats.devices_loader` reads it and names the entry that is wrong
- :mod:`sensors.formats.paths`, :mod:`sensors.formats.topicfilter`: field paths, MQTT filters
- :mod:`sensors.formats.observation`: what a format parser yields (one device, one time)
- one module per format: :mod:`~sensors.formats.ttn`, :mod:`~sensors.formats.chirpstack`,
  :mod:`~sensors.formats.senml`, :mod:`~sensors.formats.shelly`,
  :mod:`~sensors.formats.tasmota`, :mod:`~sensors.formats.generic`,
  :mod:`~sensors.formats.sensorcommunity`
- :mod:`sensors.formats.mapping`: an observation and its device become a section 2 payload
- :mod:`sensors.formats.cumulative`: the arithmetic of meter registers (increase, reset)
- :mod:`sensors.formats.translator`: topic -> format -> observations -> candidates

What a translation gives the ingestor is a section 2 payload per reading, validated by the
same models as a native message (:func:`sensors.validation.validate_object`) and written
by the same line-protocol serialiser. See the README, "Connect your devices".
"""
