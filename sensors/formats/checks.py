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
    """One sentence per site the registry does not know (naming its first entries), then
    one per device the registry disagrees with."""
    sites = {site.id for site in registry.sites}
    unknown: dict[str, list[str]] = {}
    warnings = []
    for index, device in enumerate(devices.devices):
        where = f"entry {index} ({device.label()})"
        if device.site not in sites:
            unknown.setdefault(device.site, []).append(where)
        known = registry.sensor(device.sensor)
        if known is not None and (known.site, known.domain) != (device.site, device.domain):
            warnings.append(f"{where}: the registry has sensor {device.sensor!r} as "
                            f"{known.domain.value} at {known.site!r}, the devices file as "
                            f"{device.domain.value} at {device.site!r}")
    for site, entries in unknown.items():
        more = f" and {len(entries) - 3} more" if len(entries) > 3 else ""
        warnings.insert(0, f"site {site!r} is not in the registry ({', '.join(entries[:3])}"
                           f"{more}): its readings are stored with that site id, without a "
                           "name or position")
    return warnings
