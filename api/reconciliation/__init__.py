"""The town centre beside the official borough inventory, and a carbon budget.

- :mod:`api.reconciliation.inventory`: the DESNZ local-authority statistics (parse, store, read)
- :mod:`api.reconciliation.answers`: the ``/reconciliation`` answer
- :mod:`api.reconciliation.budget`: the configured CO2 budget and ``/budget``
"""
