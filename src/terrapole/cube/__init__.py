"""The data-cube layer beneath the pillars: catalogued items loaded into xarray (``loading``),
the areas a user draws or uploads (``zones``) and the Dask cluster work runs on (``cluster``).

Production chains, on-demand jobs and openEO all build on it; it imports only the shared layer
and the catalogue core.
"""
