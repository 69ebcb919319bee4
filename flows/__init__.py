"""spectroflow orchestration: Prefect flows, Dask cluster factory, command line."""
