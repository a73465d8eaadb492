"""Pure algorithms on numpy/xarray arrays: no I/O, no catalogue, no Dask client."""
