"""HTTP routes: ``health`` (open) and the ``/api/v1`` routers (API key when configured)."""
