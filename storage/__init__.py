"""spectroflow on-disk contract: Zarr stores, survey readers, catalogue writers."""
