"""spectroflow science: pure functions on numpy/torch arrays (no prefect, no dask)."""

__version__ = "0.1.0"
