"""Carbon: activity priced with emission factors, and the indicators built on it.

- :mod:`api.carbon.pricing`: activity x factors -> grouped emission rows (pure)
- :mod:`api.carbon.grid`: grid electricity at the regional half-hourly intensity
- :mod:`api.carbon.emissions`: the ``/emissions`` answer
- :mod:`api.carbon.indicators`, :mod:`api.carbon.completeness`: the ``/indicators`` answer

Method and sources: docs/methodology.md.
"""
