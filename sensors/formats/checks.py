"""Devices file against the site registry: warnings, never errors (contract 7.1).

The registry adds names, coordinates and link lengths; it is not a gate. A device naming a
site the registry does not know is accepted (its readings are stored and listed with their
site id); so is a sensor the registry does not know. A sensor the registry does know, but
at another site or in another domain, is almost certainly a typo: that is warned about too.
"""

from __future__ import annotations

from sensors.formats.devices import DevicesFile
from sensors.registry import Registry


def registry_warnings(devices: DevicesFile, registry: Registry) -> list[str]:
    """One sentence per device the registry disagrees with or does not know the site of."""
    sites = {site.id for site in registry.sites}
    warnings = []
    for index, device in enumerate(devices.devices):
        where = f"entry {index} ({device.label()})"
        if device.site not in sites:
            warnings.append(f"{where}: site {device.site!r} is not in the registry; its "
                            "readings are stored with that site id, without a name or position")
        known = registry.sensor(device.sensor)
        if known is not None and (known.site, known.domain) != (device.site, device.domain):
            warnings.append(f"{where}: the registry has sensor {device.sensor!r} as "
                            f"{known.domain.value} at {known.site!r}, the devices file as "
                            f"{device.domain.value} at {device.site!r}")
    return warnings
