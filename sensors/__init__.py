"""The shared domain of smartplace: payload schemas, topics, units and the sensor registry.

Every process imports this package; it performs no network or database I/O.
"""
