"""Fixtures of the flow tests (the Prefect server fixture is in tests/conftest.py)."""

import pytest


@pytest.fixture(scope="session")
def tiny_model(small_training_store, tmp_path_factory):
    """A `default` model trained for one short epoch (flags and plumbing, not accuracy)."""
    from flows.jobs.train import TrainRequest, run_training

    out = tmp_path_factory.mktemp("model") / "default"
    run_training(TrainRequest(small_training_store, out=str(out), max_epochs=1, limit=256), log=lambda m: None,
                 progress_bar=False)
    return str(out)
