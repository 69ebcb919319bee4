import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import pytest


@pytest.fixture(scope="session")
def small_training_store(tmp_path_factory):
    """A complete thesis-preset training store: 1,536 spectra in 3 chunks (~3 s)."""
    from flows.generation import GenerateRequest, fill_chunk, prepare

    path = tmp_path_factory.mktemp("stores") / "small.zarr"
    request = GenerateRequest(str(path), n=1536, chunk=512, seed=21, preset="thesis")
    for index in prepare(request):
        fill_chunk(str(path), index)
    return str(path)

